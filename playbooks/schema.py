"""Schemas of the reviewed data files that PR and legal staff edit (playbooks/library/*.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yuqing.schemas import CrisisType

OWNER_ROLES = ("舆情应急领导小组", "公关部", "法务部", "客服部", "技术部", "品控部", "安全环保部", "人力资源部",
               "合规部", "风控部", "财务部", "运营部", "信息安全部", "董事会办公室")
LINKED_SYSTEMS = ("crm", "erp", "prm", "itsm", "hr")
PLACEHOLDERS = ("organisation", "incident", "date", "hotline", "product", "progress", "contact")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LinkedAction(Strict):
    system: Literal[LINKED_SYSTEMS]  # type: ignore[valid-type]
    action: str = Field(min_length=4)


class Step(Strict):
    action: str = Field(min_length=6)
    owner: Literal[OWNER_ROLES]  # type: ignore[valid-type]
    deadline_hours: float = Field(gt=0, le=24 * 30)
    channels: list[str] = Field(default_factory=list)
    template: str | None = None
    resources: list[str] = Field(default_factory=list)
    linked_systems: list[LinkedAction] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_placeholders(self) -> Step:
        import string

        if self.template:
            names = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
            unknown = names - set(PLACEHOLDERS)
            if unknown:
                raise ValueError(f"template uses unknown placeholder(s) {sorted(unknown)}; allowed: {', '.join(PLACEHOLDERS)}")
        return self


class Tier(Strict):
    summary: str = Field(min_length=10)
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted_by_deadline(self) -> Tier:
        deadlines = [s.deadline_hours for s in self.steps]
        if deadlines != sorted(deadlines):
            raise ValueError(f"steps must be sorted by deadline_hours (got {deadlines})")
        return self


class DoNot(Strict):
    action: str = Field(min_length=4)
    why: str = Field(min_length=4)


class Playbook(Strict):
    crisis_type: CrisisType
    name: str
    principles: list[str] = Field(min_length=1)
    do_not: list[DoNot] = Field(min_length=1)
    tiers: dict[Literal["minor", "general", "major"], Tier]

    @model_validator(mode="after")
    def _all_tiers(self) -> Playbook:
        missing = {"minor", "general", "major"} - set(self.tiers)
        if missing:
            raise ValueError(f"tiers missing: {', '.join(sorted(missing))}")
        if self.crisis_type == "none":
            raise ValueError("a playbook needs a crisis type other than 'none'")
        return self

    @property
    def id(self) -> str:
        return f"playbook-{self.crisis_type}"
