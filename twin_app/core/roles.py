"""Roles and what each may do: the one table the engine, the broker's ACL and the README follow.

People log in with one of `PEOPLE`; services (the engine, gateways, the simulator, event sources such as AI cameras)
have accounts of one of `SERVICES`. An operator action is applied only when the authenticated account's role allows
its verb (`allowed`).
"""

from __future__ import annotations

PEOPLE = ("operator", "supervisor", "engineer", "trainer", "admin", "unit")
SERVICES = ("engine", "gateway", "simulator", "source")
ROLES = PEOPLE + SERVICES

OPERATOR_VERBS = frozenset({"ack", "comment", "dispatch", "close", "unit_status"})
SUPERVISOR_VERBS = OPERATOR_VERBS | {"shelve", "unshelve", "suppress", "out_of_service", "override"}
PERMISSIONS: dict[str, frozenset[str]] = {
    "operator": OPERATOR_VERBS,  # acknowledge, comment, dispatch, close (and report for a unit on the phone)
    "supervisor": SUPERVISOR_VERBS,  # also shelve, suppress, out of service, override a linked action
    "engineer": frozenset(),  # reads everything, inspects the model; no alarm actions
    "trainer": frozenset(),  # replay and training only: nothing live
    "admin": frozenset(),  # users and the responsibility matrix (`twin-app users`), no alarm actions
    "unit": frozenset({"unit_status"}),  # a field unit reports on its own orders
    "engine": frozenset(),
    "gateway": frozenset(),
    "simulator": frozenset(),
    "source": frozenset(),
}
DESCRIPTION = {
    "operator": "acknowledge, comment, dispatch, report for a unit, close",
    "supervisor": "as operator, and shelve, unshelve, suppress, out of service, override a linked action",
    "engineer": "read everything, inspect the model; no alarm actions",
    "trainer": "replay and training only; nothing live",
    "admin": "manage users and the responsibility matrix; no alarm actions",
    "unit": "report en route, on scene, done on an order",
    "engine": "the engine (twin-app serve): publishes alarms, incidents, orders, KPIs, commands",
    "gateway": "a gateway: its own telemetry and status, reads commands",
    "simulator": "the simulator: every gateway's telemetry and status, events, reads commands",
    "source": "an event source (AI cameras, residents' app, grid staff app): its own event topic",
}


def allowed(role: str | None, verb: str) -> bool:
    """True when an account of `role` may apply the operator action `verb`."""
    return role is not None and verb in PERMISSIONS.get(role, frozenset())
