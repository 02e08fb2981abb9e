"""The one place where the label taxonomy lives (ids and their Chinese names)."""

from __future__ import annotations

SENTIMENT = {
    "negative": "负面",
    "neutral": "中性",
    "positive": "正面",
}

TOPIC = {
    "product_quality": "产品质量",
    "customer_service": "客户服务",
    "pricing_finance": "价格与金融",
    "corporate_operations": "经营管理",
    "labor_employment": "员工与劳动",
    "environment_safety": "环境与安全生产",
    "data_security": "数据与网络安全",
    "legal_regulatory": "法律与监管",
    "brand_marketing": "品牌与营销",
    "social_responsibility": "社会责任",
}

CRISIS_TYPE = {
    "none": "非危机",
    "product_quality": "产品质量危机",
    "service_failure": "服务失误与系统故障",
    "data_breach": "数据泄露与隐私侵犯",
    "environmental_pollution": "环境污染",
    "safety_accident": "安全事故",
    "misconduct": "员工或高管不当行为",
    "financial_risk": "财务与经营风险",
    "labor_dispute": "劳资纠纷",
    "regulatory_penalty": "监管处罚与违法违规",
    "rumor": "谣言与不实信息",
}

SEVERITY = {
    "minor": "轻微",
    "general": "一般",
    "major": "重大",
}

# Task name -> ordered label ids. The order fixes the classifier head's output index.
TASKS: dict[str, list[str]] = {
    "sentiment": list(SENTIMENT),
    "topic": list(TOPIC),
    "crisis_type": list(CRISIS_TYPE),
}

CHINESE_NAMES: dict[str, dict[str, str]] = {
    "sentiment": SENTIMENT,
    "topic": TOPIC,
    "crisis_type": CRISIS_TYPE,
    "severity": SEVERITY,
}

CRISIS_TYPES = [c for c in CRISIS_TYPE if c != "none"]


def chinese_name(task: str, label: str) -> str:
    return CHINESE_NAMES[task][label]


def label_index(task: str, label: str) -> int:
    """Index of a label inside its task; raises ValueError naming the allowed ids."""
    labels = TASKS[task]
    if label not in labels:
        raise ValueError(f"unknown {task} label {label!r}; allowed: {', '.join(labels)}")
    return labels.index(label)
