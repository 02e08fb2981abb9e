"""Monitoring: subjects (监测主题), stories, alert rules, incidents, replay, reports, and the
delivery of alerts to people and linked systems (`monitoring.delivery`).

Imports only the core (`yuqing`) and `playbooks`; the classifier and the notification hook are
injected by the caller (serving wires in the champion model and the delivery side). Nothing is
imported here, so `import monitoring.delivery` stays cheap: import from the modules
(`monitoring.engine.Monitor`, `monitoring.store.Store`, `monitoring.subjects.load_subjects`)."""
