"""Fixed texts coo says: what it can do (the commands are added by graphs.command_registry),
questions for missing fields."""

from __future__ import annotations

HELP_EXAMPLES = """Here's what I can do (just write it the way you'd tell an assistant):
• New retainer — "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example"
• New client — "new client: Northwind, contact ops@northwind.example"
• Proposal — "draft a proposal for Acme for a brand refresh, $6k"
• Invoice — "invoice Bob Lee for 12 hours of logo work at $95/h, due in 14 days"
• Payment — "Acme paid $4,000" or "got $1,140 from Bob Lee for INV-0001"
• After an invoice went out — "void INV-0007", "resend INV-0007 to ap@globex.example", "nudge Globex about INV-0007"
• Deliverable or task — "Acme needs the homepage mockups by Friday", "remind me to call the accountant tomorrow"
• Remember — "remember that Acme allows only 2 revision rounds and prefers Slack"
• Profile and follow-ups — "what do we know about Acme?", "bill them on the 15th instead"
• Retainer changes — "cancel Acme's retainer", "pause Globex's retainer until March", "resume Globex's retainer"
• Revision rounds — "Acme asked for another revision of the logo" (counted against their limit)
• Change — "rename Acme to Acme Studio Ltd", "use billing@acme.example for Acme", "move the logo for Acme to Friday", "mark the task call Bob done", "delete the task call Bob"
• Undo — "undo" or /undo: your last change (again: the one before)
• E-mail a client — "email Jane at Acme that the logo is ready"
• Recall — "what did Jane say about the logo colours?", "find the proposal for Acme", "which client wanted the files as PDFs?"
• Questions — "what's overdue?", "who owes me money?", "what's due this week?", "any approvals waiting?"
• Reports — "how much did I make this month?", "earnings by client this year", "how much has Globex paid me?", "what does Acme owe?"
• Invoices — "show overdue invoices", "which invoices are paid", "show INV-0007\""""

QUESTIONS = {
    "client_name": "Which client is this for?",
    "monthly_amount": "How much is the retainer per month (e.g. $4,000)?",
    "amount": "How much was it (e.g. $1,140)?",
    "items": 'What should the invoice say? e.g. "12 hours of logo work at $95/h" or "$2,500 for the website".',
    "title": "What is it? Give me a short title.",
    "fact": "What should I remember?",
    "body": "What should the e-mail say?",
    "query": "What should I look for?",
    "number": "Which invoice? Give me its number, e.g. INV-0007.",
    "contact_email": "What's their e-mail address?",
    "to": "What's their e-mail address?",
    "invoice_number": "Which invoice (e.g. INV-0007)?",
    "new_name": "What is the client's new name?",
    "due_date": "When is it due now?",
    "currency": "Which currency should they be billed in (e.g. EUR, GBP, USD)?",
}


def question_for(field: str) -> str:
    return QUESTIONS.get(field, f"What should {field.replace('_', ' ')} be?")
