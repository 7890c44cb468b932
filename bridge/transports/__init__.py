"""How signed batches cross the boundary: the file ferry (embedded default, and what a one-way
optical gap 光闸 carries) or NATS JetStream (production). Transports may repeat or lose
nothing silently: the receiver's sequence check makes the effect exactly once."""
