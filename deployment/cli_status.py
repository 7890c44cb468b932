"""``firegov status``: where every follower of the internal notification log stands, and which
stopped because the log no longer holds what it had passed (projections.log_guard; issue 16).
A stopped follower moves nothing until the log is restored or the follower rebuilt."""

from __future__ import annotations

from collections.abc import Callable

from bridge.outbound import NAME as OUTBOUND
from deployment.bootstrap import Platform
from projections.log_guard import stops
from projections.store import ViewStore

EXISTS = {
    "sqlite": "SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = ?",
    "postgres": "SELECT 1 AS present WHERE to_regclass(?) IS NOT NULL",
}


def positions(views: ViewStore) -> dict[str, int]:
    """Each follower's position, by name (the outbound bridge's once it has run)."""
    with views.reading() as tx:
        found = {
            str(r["name"]): int(r["position"])
            for r in tx.fetchall("SELECT name, position FROM view_tracking ORDER BY name")
        }
        if tx.fetchone(EXISTS[views.dialect], ["bridge_outbound"]) is not None:
            row = tx.fetchone("SELECT position FROM bridge_outbound WHERE name = ?", [OUTBOUND])
            if row is not None:
                found[OUTBOUND] = int(row["position"])
    return found


def report(built: Platform, echo: Callable[[str], object]) -> bool:
    """Print the log's newest id, every follower's position and every stop; True if none
    stopped."""
    newest = built.app.recorder.max_notification_id() or 0
    echo(f"事件日志最新编号 Newest notification id: {newest}")
    stopped = {stop.name: stop for stop in stops(built.views)}
    for name, position in sorted(positions(built.views).items()):
        state = "已停止 STOPPED" if name in stopped else "运行 ok"
        echo(f"  {name:<22} {position:>10}  {state}")
    for stop in stopped.values():
        echo(
            f"已停止 STOPPED {stop.name} at {stop.position} (log newest {stop.newest}, "
            f"{stop.stopped_at}): {stop.reason}. 事件日志不再包含其已处理的事件："
            "请从备份恢复事件库，或重建该读模型（firegov projections rebuild）。"
        )
    return not stopped
