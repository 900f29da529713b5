"""The general VLM core every task shares (see docs and ARCHITECTURE.md)."""

from docvlm.model.config import DocVLMConfig
from docvlm.model.processor import Batch, Sample, collate
from docvlm.model.tokenizer import DocTokenizer
from docvlm.model.vision import prepare_image
from docvlm.model.vlm import DocVLM, Generated

__all__ = ["Batch", "DocTokenizer", "DocVLM", "DocVLMConfig", "Generated", "Sample", "collate",
           "prepare_image"]
