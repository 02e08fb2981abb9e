"""ERP hold shipment: on a product-quality incident, put the affected batches on hold.

    python examples/receivers/erp_hold.py --secret whsec_… [--port 8802] [--out erp.jsonl]
    yuqing webhooks add http://127.0.0.1:8802/ -e incident.opened -e incident.escalated -e incident.resolved

Only `crisis_type == "product_quality"` incidents hold stock. Batches come from `data.batches` when
the engine knows them; otherwise the hold covers the subject's shipments pending batch
identification (quality staff narrow it down in the ERP). Resolution does not release stock by
itself: it asks QA for a release review."""

from __future__ import annotations

from webhook_receiver import Journal, main


def build(journal: Journal):
    holds: dict[str, dict] = {}  # incident id → hold

    def act(event_type: str, envelope: dict) -> dict | None:
        data = envelope["data"]
        incident = data.get("incident_id") or envelope["id"]
        if data.get("crisis_type") != "product_quality":
            return {"skipped": "not a product-quality incident"}
        if event_type in ("incident.opened", "incident.escalated") and incident not in holds:
            subject = data.get("subject") or {}
            holds[incident] = journal.write({
                "action": "hold_shipment", "hold_id": f"HOLD-{len(holds) + 1:04d}", "incident_id": incident,
                "subject": subject.get("id"), "batches": data.get("batches") or ["(全部待发批次，待质量部确认)"],
                "reason": data.get("title"), "link": data.get("link")})
            return {"hold_id": holds[incident]["hold_id"]}
        if event_type == "incident.resolved" and incident in holds:
            journal.write({"action": "request_release_review", "hold_id": holds[incident]["hold_id"],
                           "incident_id": incident})
            return {"release_review": holds[incident]["hold_id"]}
        return None

    return act


if __name__ == "__main__":
    main("ERP hold-shipment receiver", 8802, build)
