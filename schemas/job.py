"""Queue job records: what ``docvlm submit`` returns and ``docvlm status`` reports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.document import ErrorItem


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED,
                        JobStatus.CANCELLED)


class JobOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["auto", "vision", "anchored", "text"] = "auto"
    pages: str | None = Field(None, description="page ranges, e.g. '1-3,7'")
    dpi: int = Field(200, ge=36, le=1200)
    password: str | None = None
    schema_path: str | None = Field(None, description="form schema for field extraction")
    precision: Literal["auto", "int8", "fp32"] = Field(
        "auto", description="the model's linear layers: int8 (about twice as fast on a CPU, "
        "the same error rate on the measured sets; readings can vary by a character with the "
        "other lines in their batch) or fp32; auto: int8 on a CPU")


class JobDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    path: str
    pages_total: int = Field(0, ge=0)
    pages_done: int = Field(0, ge=0)
    status: JobStatus = JobStatus.QUEUED
    result_path: str | None = None
    errors: list[ErrorItem] = Field(default_factory=list)


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_name: Literal["docvlm.job"] = "docvlm.job"
    id: str
    status: JobStatus = JobStatus.QUEUED
    created_at: datetime
    updated_at: datetime
    options: JobOptions = Field(default_factory=JobOptions)
    documents: list[JobDocument] = Field(default_factory=list)
    pages_total: int = Field(0, ge=0)
    pages_done: int = Field(0, ge=0)
    errors: list[ErrorItem] = Field(default_factory=list)
