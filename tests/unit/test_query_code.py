"""Query codes (Art. 29): shown once, kept only as a salted hash that the public side verifies."""

from __future__ import annotations

from datetime import date

from bridge.contract.query_code import verify_query_code
from domain.query_code import ALPHABET, LENGTH, hash_query_code, new_query_code


def test_a_query_code_has_fifty_bits_from_an_alphabet_read_aloud_without_confusion() -> None:
    codes = {new_query_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(code) == LENGTH and set(code) <= set(ALPHABET) for code in codes)
    assert not set("01OI") & set(ALPHABET)


def test_the_hash_made_inside_verifies_on_the_public_side_and_hides_the_code() -> None:
    code = new_query_code()
    stored = hash_query_code(code)

    assert code not in stored
    assert verify_query_code(code, stored)
    assert verify_query_code(f" {code.lower()} ", stored)  # typed casually
    assert not verify_query_code(new_query_code(), stored)


def test_two_hashes_of_one_code_differ_by_their_salt() -> None:
    code = new_query_code()
    assert hash_query_code(code) != hash_query_code(code)


def test_a_malformed_or_too_costly_stored_hash_never_verifies() -> None:
    code = new_query_code()
    scheme, _, r, p, salt, digest = hash_query_code(code).split("$")
    assert not verify_query_code(code, "")
    assert not verify_query_code(code, "plain$text")
    assert not verify_query_code(code, f"{scheme}${2**20}${r}${p}${salt}${digest}")
    assert not verify_query_code("", hash_query_code(""))


def test_a_stored_hash_cannot_make_the_public_side_work_hard_or_fail() -> None:
    code = new_query_code()
    _, n, r, p, salt, digest = hash_query_code(code).split("$")
    for cost in ((2**15, r, p), (n, 64, p), (n, r, 16), (3000, r, p), (1, r, p)):
        assert not verify_query_code(code, "$".join(["scrypt", *map(str, cost), salt, digest]))


def test_the_public_sides_copies_of_the_generators_agree_with_the_domains() -> None:
    # The domain may not import the bridge, nor the public side the domain: the few lines that
    # issue query codes and receipt numbers are kept twice and must stay equal.
    from bridge.contract import intake, query_code
    from domain import numbering
    from domain import query_code as domain_codes

    assert (query_code.ALPHABET, query_code.LENGTH) == (ALPHABET, LENGTH)
    assert (query_code.N, query_code.R, query_code.P) == (
        domain_codes.N,
        domain_codes.R,
        domain_codes.P,
    )
    assert intake.RECEIPT_ALPHABET == numbering.RECEIPT_ALPHABET
    code = query_code.new_query_code()
    assert len(code) == LENGTH
    assert set(code) <= set(ALPHABET)
    assert verify_query_code(code, query_code.hash_query_code(code))
    assert intake.RECEIPT.match(intake.new_receipt_number(date(2026, 1, 5)))
