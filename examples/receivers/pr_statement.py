"""PR draft statement: on an incident of general or major severity, draft a holding statement
(致歉/说明 comes later, after the facts) for the PR team to edit and approve.

    python examples/receivers/pr_statement.py --secret whsec_… [--port 8803] [--out pr.jsonl]
    yuqing webhooks add http://127.0.0.1:8803/ -e incident.opened -e incident.escalated

A draft is never published by the receiver: it lands in the PR system as status "draft"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from webhook_receiver import Journal, main

TEMPLATE = ("关于近期网络上有关“{title}”的信息，{name}高度重视，已第一时间成立专项工作组，"
            "正在全面核查相关情况。我们将本着对公众负责的态度，实事求是、及时公开，"
            "核查进展将于{update_by}前通过官方渠道发布。感谢社会各界的关注与监督。")
DRAFT_FOR = {"general", "major"}
CHINA = timezone(timedelta(hours=8))


def update_by(data: dict) -> str:
    """Promise the next update 24 hours after the holding statement is due (else: within 24 hours)."""
    for step in data.get("first_steps") or []:
        if "声明" in (step.get("action") or "") and step.get("due_at"):
            due = datetime.fromisoformat(step["due_at"].replace("Z", "+00:00"))
            return f"{due.astimezone(CHINA) + timedelta(hours=24):%m月%d日%H时}"
    return "24小时内"


def build(journal: Journal):
    drafts: dict[str, dict] = {}

    def act(event_type: str, envelope: dict) -> dict | None:
        data = envelope["data"]
        incident = data.get("incident_id") or envelope["id"]
        if event_type not in ("incident.opened", "incident.escalated") or data.get("severity") not in DRAFT_FOR:
            return None
        name = (data.get("subject") or {}).get("name") or "我司"
        version = drafts.get(incident, {}).get("version", 0) + 1
        drafts[incident] = journal.write({
            "action": "draft_holding_statement", "incident_id": incident, "version": version, "status": "draft",
            "severity": data.get("severity"), "link": data.get("link"),
            "text": TEMPLATE.format(title=data.get("title") or "相关事件", name=name, update_by=update_by(data))})
        return {"draft": f"{incident}/v{version}"}

    return act


if __name__ == "__main__":
    main("PR draft-statement receiver", 8803, build)
