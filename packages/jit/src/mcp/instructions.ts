/** Sent to the client at initialisation; MCP clients show it to the model as guidance. */
export const SERVER_INSTRUCTIONS = `jit is the project's issue tracker, shared with other agents and people working at the same time.

Workflow for one piece of work:
1. issue_claim_next with your assignee ("agent:<your-name>") takes the most important ready issue and makes it yours; nobody else gets it. NO_READY_ISSUE means there is nothing to do right now (see query_blocked for why).
2. Do the work. Use issue_update for progress notes (context), labels and new facts; issue_create for follow-up work you discover, and dep_add if it must come first.
3. Pass the issue's gates (gate_pass) once each check really holds, e.g. tests pass or review is done.
4. issue_update with state "done". If gates are still pending the issue is stored as "gated" (the result lists them in pending_gates) and completes by itself when the last gate passes.
If you give up or are interrupted, issue_release with a reason so another agent can take the issue.
A claim has a lease: unless this server runs as your agent (then the claim lasts as long as the server), it lapses after its ttl (default 30 minutes) and another agent may take the issue; for long work call issue_renew before it runs out.

Types: an issue's type is its label type:<name> (the type argument of issue_create). Epics and milestones are containers, not work: issue_claim_next and query_ready skip them unless you ask for that type; an epic waits for its tasks (dep_add from the epic to the task), never the reverse.

Ids: a full UUID or a unique prefix of 4+ hex characters. Assignees: kind:name, e.g. "agent:worker-1", "human:alice".
Every failure is an isError result with a stable code (ISSUE_NOT_FOUND, AMBIGUOUS_ID, INVALID_ARGUMENT, CYCLE, ALREADY_CLAIMED, LOCK_TIMEOUT, ...), a message and suggestions. LOCK_TIMEOUT is temporary: retry.
Retrying a change is safe: if its effect already holds (dependency already there, gate already required or passed, issue already released...) it succeeds with changed: false. issue_claim_next is the exception: each call claims one more issue.`;
