"""A synthetic but realistic year of a design studio's back office, and the labelled questions
the recall benchmark asks about it. Deterministic: the same seed gives the same history.

Six clients with their contacts; twelve months of forwarded client e-mails, proposals, monthly
invoices and notes. Every question names the artifacts that answer it. Questions are written as
an operator would ask them: some share words with the answer, many paraphrase it ("logo colours"
→ "palette"), some cite exact tokens (invoice numbers, e-mail addresses).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

YEAR_START = date(2025, 12, 1)
MONTHS = 12


@dataclass(frozen=True)
class Contact:
    name: str
    email: str

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class ClientSpec:
    name: str
    short: str
    contacts: tuple[Contact, ...]
    retainer: int  # monthly fee in dollars
    business: str


CLIENTS: tuple[ClientSpec, ...] = (
    ClientSpec(
        "Acme Studio",
        "Acme",
        (Contact("Jane Doe", "jane@acme.example"), Contact("Leo Park", "leo@acme.example")),
        4000,
        "architecture practice",
    ),
    ClientSpec(
        "Northwind Traders", "Northwind", (Contact("Tom Becker", "tom@northwind.example"),), 2500, "import business"
    ),
    ClientSpec(
        "Kestrel Labs",
        "Kestrel",
        (Contact("Priya Raman", "priya@kestrel.example"), Contact("Dmitri Volkov", "dmitri@kestrel.example")),
        5200,
        "robotics startup",
    ),
    ClientSpec("Lumen Co", "Lumen", (Contact("Marco Silva", "marco@lumenco.example"),), 1800, "lighting brand"),
    ClientSpec(
        "Halcyon Health", "Halcyon", (Contact("Aisha Okafor", "aisha@halcyonhealth.example"),), 3600, "clinic network"
    ),
    ClientSpec(
        "Bluebird Coffee",
        "Bluebird",
        (Contact("Sam Whitfield", "sam@bluebirdcoffee.example"), Contact("Nora Lind", "nora@bluebirdcoffee.example")),
        1500,
        "coffee roaster",
    ),
)


@dataclass(frozen=True)
class Topic:
    key: str
    subjects: tuple[str, ...]
    bodies: tuple[str, ...]  # what the client writes ({client}, {me}, {day})
    questions: tuple[str, ...]  # how the operator asks later ({who}, {client})


TOPICS: tuple[Topic, ...] = (
    Topic(
        "logo_colours",
        ("Logo feedback", "Re: logo round 2", "Thoughts on the logo"),
        (
            "We looked at the new logo with the partners. The teal feels too cold next to our photography; could "
            "you try the warmer terracotta and a deeper charcoal for the wordmark?",
            "The mark itself is great, but the colours are not there yet. Everyone here prefers a warmer palette, "
            "more rust and sand, less of the bright blue.",
        ),
        (
            "what did {who} say about the logo colours?",
            "{who}'s feedback on the palette of the logo",
            "did {who} like the colour of the new mark?",
        ),
    ),
    Topic(
        "launch_date",
        ("Launch date", "Change of plans for the launch", "Re: go-live"),
        (
            "Our board pushed the public launch back by two weeks, to the {day}. Can the site be ready for a soft "
            "launch a few days before that?",
            "Heads up: marketing wants to go live earlier, on the {day}. Is that realistic for the homepage and "
            "the product pages?",
        ),
        (
            "when does {client} want to launch?",
            "what did {who} say about the go-live date?",
            "did {who} move the launch?",
        ),
    ),
    Topic(
        "invoice_dispute",
        ("Question about your last invoice", "Invoice query", "Re: billing"),
        (
            "Finance flagged your last invoice: the photo retouching hours look higher than what we agreed. Could "
            "you send a breakdown before we approve payment?",
            "Our accounts team has a question on the invoice: we thought the extra revision round was included in "
            "the retainer. Can you clarify the charge?",
        ),
        (
            "what was {who}'s problem with the invoice?",
            "did {client} question a charge?",
            "who at {client} complained about the bill and why?",
        ),
    ),
    Topic(
        "late_payment",
        ("Payment delay", "Sorry for the late payment", "Re: overdue"),
        (
            "Apologies, the transfer is late because our finance lead was on leave. Payment will go out on the "
            "{day}, I promise.",
            "We are switching banks this month, so your payment will be about ten days late. Nothing to worry "
            "about, it will come through.",
        ),
        (
            "why is {client} paying late?",
            "what did {who} say about the delayed transfer?",
            "when will {client}'s overdue money arrive?",
        ),
    ),
    Topic(
        "homepage_copy",
        ("Homepage copy", "Re: homepage text", "Copy edits"),
        (
            "The homepage headline is too clever; our customers will not get the pun. Could we say plainly what "
            "we do in the first line and move the story further down?",
            "We rewrote the hero paragraph ourselves, see below. Please keep the tone but shorten the second "
            "section and drop the testimonials block for now.",
        ),
        (
            "what did {who} think of the homepage wording?",
            "{who}'s comments on the hero headline",
            "did {client} want changes to the landing page text?",
        ),
    ),
    Topic(
        "photo_shoot",
        ("Photo shoot", "Shoot logistics", "Re: photography day"),
        (
            "For the shoot we can offer the warehouse on the {day}. Natural light is best before noon; please bring "
            "the team portrait setup as well.",
            "The photographer you suggested is fine by us. We need product shots of all twelve items and a few "
            "lifestyle pictures in the showroom.",
        ),
        (
            "what are the arrangements for {client}'s photography session?",
            "where is the shoot for {client}?",
            "what did {who} say about the pictures we need?",
        ),
    ),
    Topic(
        "contract_renewal",
        ("Renewal", "Next year", "Re: contract"),
        (
            "We would like to renew for another year. Could you send an updated agreement with the same scope, "
            "and tell us if the monthly fee changes?",
            "Before we renew the agreement we need to understand the rate increase you mentioned. Can we keep the "
            "current price if we commit for twelve months?",
        ),
        (
            "is {client} renewing the contract?",
            "what did {who} say about extending the agreement?",
            "did {client} ask about the rate for next year?",
        ),
    ),
    Topic(
        "revision_limit",
        ("Revisions", "One more round?", "Re: changes"),
        (
            "I know we already had two rounds on the brochure, but the director wants one more pass on the cover. "
            "Is that okay or is it extra?",
            "Could we get a third round of changes on the packaging? The legal team only saw it yesterday.",
        ),
        (
            "did {who} ask for another round of changes?",
            "has {client} gone over the number of revisions?",
            "who asked for an extra revision pass at {client}?",
        ),
    ),
    Topic(
        "brand_guidelines",
        ("Brand guidelines", "Style guide", "Re: brand book"),
        (
            "Can you put together a short brand guide, fonts, colours, logo spacing, so our interns stop "
            "stretching the logo in presentations?",
            "The agency doing our trade show booth asked for the brand book. Is the PDF final or should they wait "
            "for the updated typography page?",
        ),
        (
            "what did {who} say about the style guide?",
            "does {client} need a brand book?",
            "who asked for the brand guidelines document at {client}?",
        ),
    ),
    Topic(
        "website_bug",
        ("Website issue", "Something broke", "Contact form"),
        (
            "The contact form on the site has stopped sending messages since Tuesday; customers are writing to "
            "us on social media instead. Can you look at it urgently?",
            "On mobile the menu covers half of the page and cannot be closed. Several customers complained this week.",
        ),
        (
            "what was broken on {client}'s website?",
            "what did {who} report about the site not working?",
            "did {client} have a bug on their web page?",
        ),
    ),
    Topic(
        "budget_cut",
        ("Budget", "Next quarter", "Re: scope"),
        (
            "Our budget for next quarter was cut by a third. Can we pause the newsletter design and keep only "
            "the retainer work?",
            "We need to trim the project cost. What could we drop from the scope to stay under ten thousand?",
        ),
        (
            "did {client} reduce spending?",
            "what did {who} say about money being tight?",
            "is {client} cutting the scope because of finances?",
        ),
    ),
    Topic(
        "meeting_request",
        ("Catch-up call", "Meeting next week", "Workshop"),
        (
            "Could we do a workshop with the whole team on the {day}? Half a day would be enough to agree on the "
            "new structure.",
            "Are you free for a call on the {day}? I want to walk you through the feedback from the board.",
        ),
        (
            "when does {who} want to meet?",
            "did {client} ask for a workshop?",
            "what day did {who} suggest for the call?",
        ),
    ),
    Topic(
        "social_templates",
        ("Social media", "Instagram templates", "Re: posts"),
        (
            "We need a set of Instagram templates for the spring campaign, stories and square posts, that the "
            "team can edit in Canva.",
            "The social posts perform badly; our followers prefer real photos to illustrations. Can we rethink "
            "the templates?",
        ),
        (
            "what did {who} want for social media?",
            "does {client} need Instagram posts?",
            "{who}'s request about the campaign templates for socials",
        ),
    ),
    Topic(
        "packaging",
        ("Packaging", "Box design", "Re: labels"),
        (
            "The printer needs the label files with a 3 mm bleed and the barcode in black only. Can you send "
            "print-ready files by the {day}?",
            "The new boxes look great, but the lid text is too small to read on the shelf. Can we enlarge the "
            "product name?",
        ),
        (
            "what did {who} say about the boxes?",
            "what does the printer need from us for {client}?",
            "did {client} have comments on the product packaging?",
        ),
    ),
    Topic(
        "new_hire",
        ("New marketing lead", "Introduction", "Team change"),
        (
            "I am leaving at the end of the month; my colleague will take over the project. Please copy her on "
            "everything from now on.",
            "We hired a new head of marketing who starts on the {day}. She will approve designs from then on.",
        ),
        (
            "who is taking over at {client}?",
            "did {who} say someone new will approve the work?",
            "is there a change of contact person at {client}?",
        ),
    ),
    Topic(
        "accessibility",
        ("Accessibility", "Contrast complaint", "Re: readability"),
        (
            "A visitor with low vision told us the grey text on the site is hard to read. Can we improve the "
            "contrast and font size?",
            "Our public funding requires the website to meet WCAG AA. Can you audit the pages and tell us what "
            "needs fixing?",
        ),
        (
            "what did {who} say about readability for visually impaired people?",
            "does {client}'s site need an accessibility review?",
            "{client} and the contrast of the text",
        ),
    ),
    Topic(
        "trade_show",
        ("Trade show", "Booth graphics", "Re: expo"),
        (
            "We have a stand at the expo in Hamburg. We need a 3 by 2 metre back wall, two roll-ups and flyers, "
            "all delivered by the {day}.",
            "The booth print shop asked for vector files of the banner. Do you have those or should we ask the "
            "previous agency?",
        ),
        (
            "what does {client} need for the exhibition?",
            "what did {who} say about the stand?",
            "did {who} mention roll-up banners?",
        ),
    ),
    Topic(
        "testimonial",
        ("Kind words", "Thank you", "Re: results"),
        (
            "Just wanted to say the new site doubled our enquiries in the first month. The team is thrilled, "
            "thank you!",
            "Our investors loved the pitch deck; we closed the round last week. Happy to give you a testimonial.",
        ),
        ("did {who} send us praise?", "what good news did {client} share?", "can we get a testimonial from {client}?"),
    ),
    Topic(
        "newsletter",
        ("Newsletter", "Mailchimp template", "Re: monthly email"),
        (
            "Could you design a monthly newsletter template in Mailchimp with a header, three article blocks and "
            "a coupon section?",
            "The newsletter open rate dropped. Maybe the subject lines, maybe the design: what do you suggest?",
        ),
        (
            "what did {who} say about the mailing to subscribers?",
            "does {client} want an e-mail newsletter design?",
            "{client} newsletter request",
        ),
    ),
    Topic(
        "font_licence",
        ("Fonts", "Typeface licence", "Re: typography"),
        (
            "Legal asks whether the typeface on the website is licensed for web use and for our app. Can you send "
            "the licence?",
            "We would prefer a free Google font instead of the paid typeface, to avoid licence costs for the "
            "franchise partners.",
        ),
        (
            "what did {who} ask about the typeface licence?",
            "does {client} have a question about font rights?",
            "did {client} want a different font?",
        ),
    ),
    Topic(
        "menu_redesign",
        ("Menu", "Menu boards", "Re: café menu"),
        (
            "Prices go up on the {day}; can you update the menu boards and the takeaway leaflet with the new "
            "prices and the oat milk surcharge?",
            "We are adding a brunch menu on weekends. Could the board design fit six more items without looking "
            "cramped?",
        ),
        ("what did {who} say about the menu?", "does {client} need new price boards?", "{who} and the brunch items"),
    ),
    Topic(
        "video",
        ("Video", "Explainer video", "Re: animation"),
        (
            "We would like a 60-second explainer animation for the homepage. Do you do motion work or can you "
            "recommend someone?",
            "The product video needs subtitles in German and French before the trade fair.",
        ),
        (
            "did {client} ask for motion graphics?",
            "what did {who} say about the clip?",
            "does {client} need subtitles?",
        ),
    ),
    Topic(
        "deadline_extension",
        ("Deadline", "More time?", "Re: schedule"),
        (
            "We are late with the content; could we push the delivery of the annual report to the {day}? Sorry "
            "for the shift.",
            "Legal review takes longer than planned. Is it fine if we send you the final texts a week later?",
        ),
        (
            "did {client} ask to move the due date?",
            "why is {client}'s delivery late?",
            "what did {who} say about the schedule slipping?",
        ),
    ),
    Topic(
        "hosting",
        ("Hosting", "Server renewal", "Re: domain"),
        (
            "Our hosting renewal came in at twice last year's price. Should we move the site somewhere cheaper, "
            "and can you handle the migration?",
            "The domain expires on the {day}; who renews it, you or us?",
        ),
        (
            "what did {who} say about the web hosting?",
            "does {client}'s domain need renewing?",
            "{client} server costs question",
        ),
    ),
)

SCOPES = (
    "brand refresh",
    "website redesign",
    "packaging system",
    "annual report",
    "trade show booth",
    "social media kit",
    "product photography",
    "e-commerce shop",
    "signage and wayfinding",
)

NOTES = (
    ("prefers Slack for quick questions and e-mail for approvals", "how does {client} like to be contacted?"),
    ("pays invoices net 45, never earlier", "what are {client}'s payment terms?"),
    ("allows only 2 revision rounds per deliverable", "how many rounds of changes does {client} get?"),
    ("the CEO must sign off every logo use", "who has to approve logo use at {client}?"),
    ("invoices must carry the purchase order number", "what must be on {client}'s bills?"),
    ("closed for the whole of August", "when is {client} on holiday?"),
    ("wants files in both Figma and PDF", "which file formats does {client} want?"),
    ("the office is in Rotterdam, meetings on Tuesdays only", "which day can we meet {client}?"),
)

WORK_LINES = (
    "design work",
    "illustration",
    "photo retouching",
    "copywriting",
    "web development",
    "print production",
    "consulting call",
    "motion design",
)


@dataclass
class Doc:
    key: str  # stable id in the benchmark, e.g. "email:17"
    kind: str  # email_in | proposal | invoice | fact
    client: str
    title: str
    text: str
    when: datetime
    sender: Contact | None = None
    number: str | None = None


@dataclass
class Question:
    text: str
    answers: tuple[str, ...]  # doc keys
    client: str | None = None  # the client filter recall would apply (named client), if any
    style: str = "paraphrase"


@dataclass
class History:
    docs: list[Doc] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


def _fmt_day(d: date) -> str:
    return d.strftime("%B %-d")


def build(seed: int = 7) -> History:
    rng = random.Random(seed)
    h = History()
    n_email = n_invoice = n_proposal = 0
    for spec in CLIENTS:
        used: set[tuple[str, str]] = set()
        topic_of: list[tuple[str, str]] = []
        client_questions: list[tuple[Question, str]] = []
        topic_pool = list(TOPICS)
        rng.shuffle(topic_pool)
        pointer = 0
        proposal_months = sorted(rng.sample(range(MONTHS), 3))
        note_picks = rng.sample(range(len(NOTES)), 4)
        for month in range(MONTHS):
            first = (YEAR_START.replace(day=1) + timedelta(days=31 * month)).replace(day=1)
            # e-mails from the client's contacts
            for _ in range(rng.choice((1, 2, 2))):
                contact = rng.choice(spec.contacts)
                for _try in range(len(topic_pool)):
                    topic = topic_pool[pointer % len(topic_pool)]
                    pointer += 1
                    if (contact.email, topic.key) not in used:
                        break
                else:
                    continue
                used.add((contact.email, topic.key))
                sent = datetime.combine(
                    first + timedelta(days=rng.randrange(27)), datetime.min.time(), tzinfo=UTC
                ) + timedelta(hours=rng.randrange(8, 18))
                day = _fmt_day(sent.date() + timedelta(days=rng.randrange(7, 40)))
                body = rng.choice(topic.bodies).format(client=spec.name, me="Ana", day=day)
                greeting = rng.choice(("Hi Ana,", "Hello Ana,", "Dear Ana,", "Ana,"))
                closing = rng.choice(("Best,", "Thanks,", "Cheers,", "Kind regards,"))
                filler = rng.choice(
                    ("", "Hope the week is going well. ", "Sorry for the long silence. ", "Following up on our call. ")
                )
                text = f"{greeting}\n\n{filler}{body}\n\n{closing}\n{contact.first}"
                n_email += 1
                doc = Doc(f"email:{n_email}", "email_in", spec.name, rng.choice(topic.subjects), text, sent, contact)
                h.docs.append(doc)
                q = rng.choice(topic.questions)
                named_client = "{client}" in q and "{who}" not in q
                question = Question(
                    q.format(who=contact.first, client=spec.short),
                    (doc.key,),
                    spec.name if named_client else None,
                    "said",
                )
                h.questions.append(question)
                topic_of.append((doc.key, topic.key))
                if named_client:
                    client_questions.append((question, topic.key))
            # the monthly invoice
            n_invoice += 1
            number = f"INV-{n_invoice:04d}"
            lines = [("monthly retainer", spec.retainer)]
            if rng.random() < 0.6:
                lines.append((rng.choice(WORK_LINES), rng.randrange(3, 30) * 50))
            issue = first + timedelta(days=rng.randrange(0, 5))
            month_name = issue.strftime("%B %Y")
            items = "; ".join(f"{d} (${a:,.2f})" for d, a in lines)
            total = sum(a for _, a in lines)
            inv = Doc(
                f"invoice:{n_invoice}",
                "invoice",
                spec.name,
                f"Invoice {number}",
                f"Invoice {number} to {spec.name}, issued {issue.isoformat()} ({month_name}), due "
                f"{(issue + timedelta(days=30)).isoformat()}, total ${total:,.2f}: {items}",
                datetime.combine(issue, datetime.min.time(), tzinfo=UTC),
                number=number,
            )
            h.docs.append(inv)
            if month % 2 == 0:
                h.questions.append(
                    Question(
                        rng.choice(("find {n}", "show me invoice {n}", "what was on {n}?", "{n}")).format(n=number),
                        (inv.key,),
                        None,
                        "exact",
                    )
                )
            else:
                h.questions.append(
                    Question(
                        rng.choice(
                            (
                                "what did we bill {c} in {m}?",
                                "{c} invoice for {m}",
                                "how much did we charge {c} for {m}?",
                            )
                        ).format(c=spec.short, m=issue.strftime("%B")),
                        (inv.key,),
                        spec.name,
                        "invoice-month",
                    )
                )
            # proposals
            if month in proposal_months:
                n_proposal += 1
                scope = SCOPES[(n_proposal * 5 + len(spec.name)) % len(SCOPES)]
                fee = rng.randrange(4, 30) * 500
                pnum = f"P-{n_proposal:04d}"
                when = datetime.combine(first + timedelta(days=rng.randrange(20)), datetime.min.time(), tzinfo=UTC)
                text = (
                    f"Proposal {pnum} for {spec.name}: {scope}. Hi {spec.contacts[0].first}, thank you for the "
                    f"brief. For your {spec.business} we propose a {scope} in three phases: discovery, design "
                    f"and delivery, with two revision rounds each. Fee: ${fee:,}, half on signature. Timeline: "
                    f"{rng.randrange(3, 10)} weeks from kickoff."
                )
                doc = Doc(
                    f"proposal:{n_proposal}",
                    "proposal",
                    spec.name,
                    f"Proposal for {spec.name}: {scope}",
                    text,
                    when,
                    number=pnum,
                )
                h.docs.append(doc)
                h.questions.append(
                    Question(
                        rng.choice(
                            (
                                "find the proposal for {c} about the {s}",
                                "what did we quote {c} for the {s}?",
                                "pull up our {s} offer to {c}",
                            )
                        ).format(c=spec.short, s=scope),
                        (doc.key,),
                        spec.name,
                        "proposal",
                    )
                )
        for i in note_picks:
            fact, asked = NOTES[i]
            when = datetime.combine(YEAR_START + timedelta(days=rng.randrange(360)), datetime.min.time(), tzinfo=UTC)
            doc = Doc(
                f"fact:{spec.short}:{i}",
                "fact",
                spec.name,
                f"Note about {spec.name}",
                f"Note about {spec.name}: {fact}",
                when,
            )
            h.docs.append(doc)
            h.questions.append(Question(asked.format(client=spec.short), (doc.key,), spec.name, "note"))
        # a question naming the client (not the contact) is answered by every e-mail of that
        # client on the topic: two contacts may have written about the same thing
        by_topic: dict[str, list[str]] = {}
        for doc_key, key in topic_of:
            by_topic.setdefault(key, []).append(doc_key)
        for question, key in client_questions:
            question.answers = tuple(by_topic[key])
        # questions that cite an address
        mails = [d for d in h.docs if d.kind == "email_in" and d.client == spec.name]
        for doc in rng.sample(mails, 3):
            assert doc.sender is not None
            h.questions.append(
                Question(f"the e-mail from {doc.sender.email} about {doc.title.lower()}", (doc.key,), None, "address")
            )
    return h


_FILLER_SENTENCES = tuple(b.split(". ")[0] for t in TOPICS for b in t.bodies)


def filler(rng: random.Random, n_clients: int = 40) -> tuple[str, str, int]:
    """One synthetic memory for latency runs: (title, text, client number)."""
    topic = rng.choice(TOPICS)
    text = " ".join(rng.sample(_FILLER_SENTENCES, 2)) + f". Ref {rng.randrange(10**6):06d}."
    return rng.choice(topic.subjects), text, rng.randrange(1, n_clients + 1)
