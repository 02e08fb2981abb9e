"""CRM customer care: on an alert or incident, open care tickets for the affected customers.

    python examples/receivers/crm_care.py --secret whsec_… [--port 8801] [--out crm.jsonl]
    yuqing webhooks add http://127.0.0.1:8801/ -e alert.raised -e incident.opened
        -e incident.escalated -e incident.resolved      (one command)

One ticket per (incident, customer): a later alert on the same incident updates it rather than
opening another. Customers come from `data.affected_customers` when the engine knows them; otherwise
one incident-level ticket lists the mentions, for care staff to find the people behind them."""

from __future__ import annotations

from webhook_receiver import Journal, main

OPENING = {"alert.raised", "incident.opened", "incident.escalated"}
PRIORITY = {"minor": "P3", "general": "P2", "major": "P1"}


def build(journal: Journal):
    tickets: dict[tuple[str, str], dict] = {}

    def customers(data: dict) -> list[str]:
        given = [str(c.get("id", c)) if isinstance(c, dict) else str(c) for c in data.get("affected_customers") or []]
        return given or ["(待识别：见 mention_ids)"]

    def act(event_type: str, envelope: dict) -> dict | None:
        data = envelope["data"]
        incident = data.get("incident_id") or envelope["id"]
        if event_type == "incident.resolved":
            closed = [t for key, t in tickets.items() if key[0] == incident and t["status"] == "open"]
            for ticket in closed:
                ticket["status"] = "closed"
                journal.write({"action": "close_care_ticket", **ticket})
            return {"closed": [t["ticket_id"] for t in closed]}
        if event_type not in OPENING:
            return None
        touched = []
        for customer in customers(data):
            ticket = tickets.get((incident, customer))
            if ticket is None:
                ticket = {"ticket_id": f"CARE-{len(tickets) + 1:05d}", "incident_id": incident, "customer": customer,
                          "status": "open", "mention_ids": data.get("mention_ids", []), "link": data.get("link")}
                tickets[(incident, customer)] = ticket
                action = "open_care_ticket"
            else:
                action = "update_care_ticket"
            ticket.update(priority=PRIORITY.get(data.get("severity"), "P3"), title=data.get("title"))
            touched.append(journal.write({"action": action, **ticket})["ticket_id"])
        return {"tickets": touched}

    return act


if __name__ == "__main__":
    main("CRM customer-care receiver", 8801, build)
