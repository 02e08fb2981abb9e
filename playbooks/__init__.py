"""The crisis-response strategy library (危机应对策略库), the historical case library,
severity grading and recommendations."""
