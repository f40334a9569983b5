"""Tools that act for the user calling them, through ``current_session().caller`` (hook API 1.3)."""

from mcp_host import HOOK_API_VERSION, current_session, hookimpl


@hookimpl
def register_tools(register):
    def whoami() -> dict[str, object]:
        """Who is calling: the identity the host verified, as plugins see it."""
        caller = current_session().caller
        if caller is None:
            return {"caller": None, "hook_api": HOOK_API_VERSION}
        return {
            "client_id": caller.client_id,
            "subject": caller.subject,
            "issuer": caller.issuer,
            "scopes": list(caller.scopes),
            "claims": dict(caller.claims),
            "hook_api": HOOK_API_VERSION,
        }

    def payroll() -> str:
        """A tool only some users may call (the tests' grants say who)."""
        return f"payroll for {current_session().caller.subject}"

    register(whoami)
    register(payroll)
