"""Every step a plan can name, by name."""

from __future__ import annotations

from graphs.step_kit import StepFn
from graphs.steps import CORE_STEPS
from graphs.steps_changes import CHANGE_STEPS
from graphs.steps_credits import CREDIT_STEPS
from graphs.steps_currency import CURRENCY_STEPS
from graphs.steps_invoices import INVOICE_AFTER_STEPS
from graphs.steps_memory import MEMORY_STEPS
from graphs.steps_recurring import RECURRING_STEPS
from graphs.steps_reports import REPORT_STEPS
from graphs.steps_retainer import RETAINER_STEPS
from graphs.steps_undo import UNDO_STEPS

STEPS: dict[str, StepFn] = {
    **CORE_STEPS,
    **MEMORY_STEPS,
    **RECURRING_STEPS,
    **CREDIT_STEPS,
    **RETAINER_STEPS,
    **INVOICE_AFTER_STEPS,
    **REPORT_STEPS,
    **CHANGE_STEPS,
    **CURRENCY_STEPS,
    **UNDO_STEPS,
}
