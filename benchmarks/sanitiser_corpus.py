"""Generate the sanitiser's benchmark corpus from sources the sanitiser was not written from.

Sentences come from three template sets, filled with Faker's ``en_GB`` providers:

- presidio-evaluator's sentence templates (``presidio_evaluator/data_generator/raw_data/
  templates.txt`` in microsoft/presidio-research), the one-line ones that hold a name, an
  address, a street, a phone number, an email address or a postcode;
- hotline templates written here in the way callers speak (self-introductions, where they
  live, how to reach them, officers they name, and sentences with nothing to flag);
- Welsh templates in the same way ("Fy enw i yw ...", "... ydw i", "Dw i'n byw yn ...").
  Faker has no Welsh locale, so Welsh names and streets are built from the short lists
  below and Faker's en_GB surnames, numbers and postcodes.

Labels say what the handler must be warned about: the caller's own name (a third party's
or an officer's name is not labelled, so flagging it is a false alarm), any street address
with a house number (whoever's: one in a report can lead back to the caller), every
postcode, phone number and email address. About a third of phone numbers, emails and
postcodes are turned into speech ("oh seven seven ...", "jo dot bloggs at example dot
com", "L S one four A B"), as a transcript holds them.

Templates, not sentences, are split into a development half and a held-out half (each
template's sentences all go to one half, alternating within each template set after a
seeded shuffle), so the held-out half tests phrasings the sanitiser was never tuned to.

    .venv/bin/pip install -e '.[benchmarks]'
    .venv/bin/python -m benchmarks.sanitiser_corpus --templates PATH/TO/templates.txt

``--templates`` defaults to the copy inside an installed presidio-evaluator.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from faker import Faker

SEED = 20
PER_TEMPLATE = 6
HERE = Path(__file__).parent
CORPUS = {"development": HERE / "sanitiser_corpus_dev.json"}
CORPUS["held-out"] = HERE / "sanitiser_corpus_heldout.json"
PHONE, EMAIL, ADDRESS, POSTCODE, NAME = "phone", "email", "address", "postcode", "name"

# --- Hotline templates: {slot} is filled; the slot's name says what it is and its label ----
# SELF / SELF_FIRST: the caller's name; OTHER / OTHER_FIRST / SURNAME: someone else;
# HOME: a full address; HOUSE: a house number and street; HOME_STREET: the street the
# caller lives on (labelled an address); STREET: a bare street somewhere;
# TOWN, FORCE, RANK, WHEN: context with nothing to flag.
ENGLISH = [
    "Hi, my name is {SELF} and I want to report an officer.",
    "{SELF} here, calling from {TOWN}.",
    "Yeah, the name's {SELF}, I've rung before.",
    "My full name is {SELF}, but please keep that out of it.",
    "I, {SELF}, want to tell you what happened at the station.",
    "Me name's {SELF_FIRST} and I've had enough of it.",
    "Hello, it's {SELF} speaking, I'm a bit nervous.",
    "This is {SELF} calling about {RANK} {SURNAME}.",
    "I'm {SELF_FIRST}, I work in the control room in {TOWN}.",
    "Call me {SELF_FIRST}, I'd rather not say more.",
    "Morning, {SELF} calling, it's about my neighbour.",
    "You can call me {SELF_FIRST} if you need a name.",
    "My name's {SELF}, I'm ringing about {RANK} {OTHER}.",
    "I live at {HOME} and he drives past every night.",
    "We live on {HOME_STREET}, just off the main road.",
    "I live on {HOME_STREET} near the school.",
    "We're living on {HOME_STREET} now, since the divorce.",
    "Can you ring me on {PHONE}? Any time after five.",
    "The number to get me on is {PHONE}.",
    "Send it to {EMAIL}, that's my private one.",
    "I live in {TOWN}, postcode {POSTCODE}.",
    "My address is {HOME}, if you need to write.",
    "I'm at {HOUSE}, the one with the blue door.",
    "We're in {HOUSE}, {TOWN}.",
    "Our house is {HOUSE}, opposite the pub.",
    "My postcode is {POSTCODE}, that's where it happened.",
    "The postcode is {POSTCODE}.",
    "Ring me back on {PHONE} after six.",
    "My mobile number is {PHONE}.",
    "You can text me on {PHONE}, my partner doesn't know.",
    "My email is {EMAIL}.",
    "Email me at {EMAIL} please.",
    "I'd rather you wrote to {EMAIL} than rang.",
    "{RANK} {OTHER} took the money, I saw it.",
    "It's {OTHER}, a PCSO in {TOWN}, who tips them off.",
    "PC {SURNAME} was on duty that night.",
    "It was {RANK} {SURNAME} who told me to keep quiet.",
    "An officer called {OTHER} has been threatening my brother.",
    "{OTHER_FIRST} from the custody suite deletes the footage.",
    "His name is {RANK} {OTHER} and he works out of {TOWN}.",
    "I think {OTHER} and {RANK} {SURNAME} are in it together.",
    "They meet in the car park on {STREET} most Fridays.",
    "It happened on {STREET} in {TOWN} last {WHEN}.",
    "He keeps the cash at the station in {TOWN}.",
    "I don't want to give my name, I'm scared.",
    "There were three officers and two vans.",
    "He took about two hundred pounds off him.",
    "It has been going on since {WHEN}.",
    "The {FORCE} officers laughed about it afterwards.",
    "I'm not going to say where I live.",
    "Nobody at {FORCE} would listen to me.",
]
WELSH = [
    "Fy enw i yw {SELF} ac rydw i eisiau riportio swyddog.",
    "Helo, fy enw i ydy {SELF}.",
    "{SELF} ydw i, dw i'n byw yn {TOWN}.",
    "{SELF_FIRST} ydw i, a dw i'n ofnus.",
    "Bore da, {SELF} sy'n siarad.",
    "{SELF} sy 'ma, dw i wedi ffonio o'r blaen.",
    "Fy enw llawn yw {SELF}, ond cadwch e'n dawel.",
    "Fy enw yw {SELF}.",
    "Galwch fi'n {SELF_FIRST}.",
    "Dw i'n byw yn {HOUSE}, {TOWN}.",
    "Dw i'n byw ar {HOME_STREET}, ger yr ysgol.",
    "Rwy'n byw yn {HOUSE}.",
    "Rydw i'n byw ar {HOME_STREET} yn {TOWN}.",
    "Rhif fy ffôn symudol ydy {PHONE}.",
    "Cewch chi fy ffonio i ar {PHONE}.",
    "Anfonwch e at {EMAIL}.",
    "Dw i'n byw yn {TOWN}, cod post {POSTCODE}.",
    "Fy nghyfeiriad yw {HOME}.",
    "Rydyn ni'n byw yn {HOUSE}, gyferbyn â'r dafarn.",
    "Fy nghod post yw {POSTCODE}.",
    "Y cod post ydy {POSTCODE}.",
    "Fy rhif ffôn yw {PHONE}.",
    "Ffoniwch fi ar {PHONE} ar ôl chwech.",
    "Fy nghyfeiriad e-bost yw {EMAIL}.",
    "E-bostiwch fi ar {EMAIL}.",
    "Cwnstabl {SURNAME} gymerodd yr arian.",
    "Y Sarjant {SURNAME} ddywedodd wrtha i am gau fy ngheg.",
    "Mae {OTHER}, swyddog cymorth cymunedol yn {TOWN}, yn rhoi gwybod iddyn nhw.",
    "Roedd PC {OTHER} ar ddyletswydd y noson honno.",
    "Mae'r Arolygydd {SURNAME} yn gwybod popeth.",
    "Maen nhw'n cwrdd ar {STREET} bob nos Wener.",
    "Digwyddodd e ar {STREET} yn {TOWN}.",
    "Dw i ddim eisiau rhoi fy enw.",
    "Roedd tri swyddog a dwy fan.",
    "Mae hyn wedi bod yn digwydd ers {WHEN}.",
    "Doedd neb yn {FORCE} yn gwrando.",
]
ENGLISH_RANKS = ["PC", "DC", "Sergeant", "Sgt", "Inspector", "DS", "Detective Inspector"]
ENGLISH_FORCES = ["West Yorkshire Police", "the Met", "Merseyside Police", "Kent Police"]
WELSH_FORCES = ["Heddlu Dyfed-Powys", "Heddlu Gogledd Cymru", "Heddlu De Cymru", "Heddlu Gwent"]
WELSH_FIRST_NAMES = [
    "Siân",
    "Rhys",
    "Dafydd",
    "Gwen",
    "Llinos",
    "Iolo",
    "Cerys",
    "Aled",
    "Gethin",
    "Eleri",
    "Owain",
    "Ffion",
    "Rhodri",
    "Nia",
    "Bethan",
    "Huw",
    "Catrin",
    "Gareth",
    "Elin",
    "Tomos",
    "Angharad",
    "Emyr",
    "Heledd",
    "Ioan",
    "Lowri",
    "Meirion",
    "Nerys",
    "Gruffudd",
    "Mererid",
    "Steffan",
    "Alaw",
    "Dylan",
    "Branwen",
    "Cai",
    "Delyth",
    "Geraint",
    "Manon",
    "Osian",
    "Tegan",
]
WELSH_SURNAMES = [
    "Jones",
    "Williams",
    "Davies",
    "Evans",
    "Thomas",
    "Roberts",
    "Hughes",
    "Lewis",
    "Morgan",
    "Griffiths",
    "Owen",
    "Price",
    "Pritchard",
    "Parry",
    "Rees",
    "Jenkins",
    "Llewelyn",
    "Bowen",
    "Vaughan",
    "Powell",
    "Prosser",
    "Gwynne",
]
WELSH_STREET_TYPES = ["Heol", "Ffordd", "Stryd", "Lôn", "Rhodfa", "Cilgant", "Maes", "Teras"]
WELSH_STREET_NAMES = [
    "y Bont",
    "yr Eglwys",
    "Fawr",
    "Newydd",
    "Las",
    "y Castell",
    "Glan-yr-Afon",
    "Llanbadarn",
    "Penrhos",
    "y Felin",
    "y Parc",
    "Caradog",
    "Dewi",
    "y Môr",
    "Tywi",
    "Hywel",
    "y Coed",
    "Gwynfryn",
]
WELSH_TOWNS = [
    "Aberystwyth",
    "Caerfyrddin",
    "Bangor",
    "Llanelli",
    "Wrecsam",
    "Abertawe",
    "Caerdydd",
    "Pwllheli",
    "Dolgellau",
    "Machynlleth",
    "Caernarfon",
    "Llandudno",
    "Aberteifi",
    "Y Bala",
    "Merthyr Tudful",
    "Casnewydd",
]
WELSH_WHEN = ["mis Ionawr", "y Nadolig", "yr haf diwethaf", "dwy flynedd"]

# --- Speech: how a transcript spells what a caller says -------------------------------------
DIGIT_WORDS = ["oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TENS_WORDS = [
    "_",
    "_",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
]


def spoken_digits(digits: str, rng: random.Random) -> str:
    """Say a run of digits as callers do: "oh seven seven double oh nine ..."."""
    words, i = [], 0
    while i < len(digits):
        if i + 1 < len(digits) and digits[i] == digits[i + 1] and rng.random() < 0.6:
            words.append(f"double {DIGIT_WORDS[int(digits[i])]}")
            i += 2
            continue
        zero = rng.choice(["oh", "zero"]) if digits[i] == "0" else DIGIT_WORDS[int(digits[i])]
        words.append(zero)
        i += 1
    return " ".join(words)


def spoken_number(digits: str) -> str:
    """Say a number as a word or two ("sixty five", "seven"), or digit by digit past 99."""
    value = int(digits)
    if len(digits) > 2 or digits.startswith("0"):
        return " ".join(DIGIT_WORDS[int(d)] for d in digits)
    if value < 10:
        return DIGIT_WORDS[value] if value else "zero"
    teens = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
    if value < 20:
        return teens.split()[value - 10]
    tens, unit = divmod(value, 10)
    return TENS_WORDS[tens] + (f" {DIGIT_WORDS[unit]}" if unit else "")


def spoken_phone(number: str, rng: random.Random) -> str:
    digits = re.sub(r"\D", "", number.replace("+44", "0").replace("(0)", ""))
    if digits.startswith("440"):
        digits = digits[2:]
    return spoken_digits(digits, rng)


def spoken_email(address: str) -> str:
    local, domain = address.split("@")
    said = re.sub(r"\d+", lambda m: f" {spoken_number(m.group())} ", local)
    said = said.replace(".", " dot ").replace("_", " underscore ").replace("-", " dash ")
    return " ".join(f"{said} at {domain.replace('.', ' dot ')}".split())


def spoken_postcode(postcode: str) -> str:
    return " ".join(DIGIT_WORDS[int(c)] if c.isdigit() else c for c in postcode if c != " ")


# --- Filling a template -------------------------------------------------------------------------


@dataclass
class Sentence:
    """A sentence being built: its text so far and its labelled spans."""

    text: str = ""
    spans: list[dict[str, Any]] | None = None

    def add(self, words: str, kind: str | None = None) -> None:
        if kind:
            self.spans = [*(self.spans or []), _span(kind, len(self.text), words)]
        self.text += words


def _span(kind: str, start: int, words: str) -> dict[str, Any]:
    return {"kind": kind, "start": start, "end": start + len(words), "text": words}


class Filler:
    """Fill slots with Faker's en_GB data (and Welsh lists), as written or as spoken."""

    def __init__(self, fake: Faker, rng: random.Random, welsh: bool) -> None:
        self.fake, self.rng, self.welsh = fake, rng, welsh

    def name(self) -> str:
        if self.welsh and self.rng.random() < 0.7:
            surname = self.rng.choice([*WELSH_SURNAMES, self.fake.last_name()])
            return f"{self.rng.choice(WELSH_FIRST_NAMES)} {surname}"
        return str(self.fake.first_name() + " " + self.fake.last_name())

    def first_name(self) -> str:
        if self.welsh and self.rng.random() < 0.7:
            return self.rng.choice(WELSH_FIRST_NAMES)
        return str(self.fake.first_name())

    def street(self) -> str:
        if self.welsh:
            return f"{self.rng.choice(WELSH_STREET_TYPES)} {self.rng.choice(WELSH_STREET_NAMES)}"
        return str(self.fake.street_name())

    def town(self) -> str:
        return self.rng.choice(WELSH_TOWNS) if self.welsh else str(self.fake.city())

    def house(self) -> str:
        flat = f"{self.fake.secondary_address()}, " if self.rng.random() < 0.2 else ""
        return f"{flat}{self.fake.building_number()} {self.street()}"

    def postcode(self) -> str:
        code = str(self.fake.postcode())
        return spoken_postcode(code) if self.rng.random() < 0.33 else code

    def phone(self) -> str:
        number = str(self.fake.phone_number())
        return spoken_phone(number, self.rng) if self.rng.random() < 0.33 else number

    def email(self) -> str:
        address = str(self.fake.email())
        return spoken_email(address) if self.rng.random() < 0.33 else address

    def fill(self, slot: str, into: Sentence) -> None:
        """Append what ``slot`` stands for to the sentence, labelled as the slot says."""
        plain: dict[str, Callable[[], str]] = {
            "OTHER": self.name,
            "OTHER_FIRST": self.first_name,
            "SURNAME": lambda: self.name().split()[-1],
            "STREET": self.street,
            "TOWN": self.town,
            "RANK": lambda: self.rng.choice(ENGLISH_RANKS),
            "FORCE": lambda: self.rng.choice(WELSH_FORCES if self.welsh else ENGLISH_FORCES),
            "WHEN": lambda: self.rng.choice(WELSH_WHEN) if self.welsh else self.fake.month_name(),
            "CITY": self.town,
            "COUNTRY": lambda: str(self.fake.country()),
            "ORGANIZATION": lambda: str(self.fake.company()),
        }
        labelled: dict[str, tuple[str, Callable[[], str]]] = {
            "SELF": (NAME, self.name),
            "SELF_FIRST": (NAME, self.first_name),
            "HOUSE": (ADDRESS, self.house),
            "HOME_STREET": (ADDRESS, self.street),
            "POSTCODE": (POSTCODE, self.postcode),
            "PHONE": (PHONE, self.phone),
            "EMAIL": (EMAIL, self.email),
        }
        if slot == "HOME":
            into.add(self.house(), ADDRESS)
            into.add(f", {self.town()}, ")
            into.add(self.postcode(), POSTCODE)
        elif slot in labelled:
            kind, make = labelled[slot]
            into.add(make(), kind)
        else:
            into.add(plain.get(slot, lambda: self.faker_says(slot))())

    def faker_says(self, slot: str) -> str:
        """Fill a presidio slot this corpus does not label (a card, a year) as Faker would."""
        if slot in {"DATE_OF_BIRTH", "DATE_TIME", "YEAR"}:
            # Between fixed dates: Faker's own dates run up to today, and the corpus must
            # come out the same whenever it is generated.
            day = self.fake.date_between(date(1950, 1, 1), date(2020, 12, 31))
            return str(day.year if slot == "YEAR" else day)
        method = {"NATIONALITY": "country", "AGE": "random_int"}
        value = getattr(self.fake, method.get(slot, slot.lower()), self.fake.word)()
        return str(value)


SLOT = re.compile(r"\{(\w+)\}")
LABELLED_SLOTS = {"SELF", "SELF_FIRST", "HOME", "HOUSE", "HOME_STREET", "POSTCODE", "PHONE"}
LABELLED_SLOTS |= {"EMAIL"}


def sentences(templates: list[str], filler: Filler, count: int) -> Iterator[list[Sentence]]:
    """Yield, for each template, ``count`` sentences made from it."""
    for template in templates:
        made = []
        for _ in range(count):
            sentence, at = Sentence(), 0
            for slot in SLOT.finditer(template):
                sentence.add(template[at : slot.start()])
                filler.fill(slot.group(1), sentence)
                at = slot.end()
            sentence.add(template[at:])
            made.append(sentence)
        yield made


# --- presidio-evaluator's templates, in this corpus's slots -------------------------------------

# A person slot after one of these is the speaker naming themselves.
SELF_CUE = re.compile(
    r"(?:my name is|my nam is|this is|correct it to|calls? me|your name\?|last name\?|"
    r"name on the account\? User:|I'm)\s*(?:\{\{prefix\w*\}\}\s*)?$",
    re.IGNORECASE,
)
PERSON_SLOTS = {"person", "name", "name_male", "name_female"}
FIRST_SLOTS = {"first_name", "first_name_male", "first_name_female", "first_name_nonbinary"}
SURNAME_SLOTS = {"last_name", "last_name_male", "last_name_female"}
USEFUL = {"address", "email", "phone_number", "postcode", "street_name"}
USEFUL |= PERSON_SLOTS | FIRST_SLOTS | SURNAME_SLOTS


def presidio_templates(path: Path) -> list[str]:
    """The one-line presidio templates with a slot this corpus labels, in its own slots."""
    chosen = []
    for line in path.read_text(encoding="utf-8").splitlines():
        slots = set(re.findall(r"\{\{(\w+)\}\}", line))
        if "\\n" in line or not slots & USEFUL or "{{" not in line:
            continue
        chosen.append(_convert(line))
    return chosen


def _convert(line: str) -> str:
    out, at = "", 0
    line = re.sub(r"\{\{building_number\}\} \{\{street_name\}\}", "{{HOUSE}}", line)
    for slot in re.finditer(r"\{\{(\w+)\}\}", line):
        out += line[at : slot.start()]
        name, mine = slot.group(1), ""
        is_self = bool(SELF_CUE.search(line[: slot.start()]))
        if name in PERSON_SLOTS:
            mine = "SELF" if is_self else "OTHER"
        elif name in FIRST_SLOTS:
            mine = "SELF_FIRST" if is_self else "OTHER_FIRST"
        elif name in SURNAME_SLOTS:
            mine = "SELF" if is_self else "SURNAME"
        else:
            mine = {
                "address": "HOME",
                "email": "EMAIL",
                "phone_number": "PHONE",
                "postcode": "POSTCODE",
                "street_name": "STREET",
                "HOUSE": "HOUSE",
            }.get(name, name.upper())
        out += "{" + mine + "}"
        at = slot.end()
    return out + line[at:]


def _default_templates() -> Path:
    from importlib.resources import files  # only when presidio-evaluator is installed

    found = files("presidio_evaluator") / "data_generator" / "raw_data" / "templates.txt"
    return Path(str(found))


def dealt(templates: list[str], rng: random.Random) -> list[tuple[str, str]]:
    """Deal templates to the halves alternately within each group of the same first slot."""
    groups: dict[str, list[str]] = {}
    for template in templates:
        slots = [s for s in SLOT.findall(template) if s in LABELLED_SLOTS] or ["none"]
        groups.setdefault(slots[0], []).append(template)
    order = []
    for group in sorted(groups):
        members = groups[group]
        rng.shuffle(members)
        order += [("development" if i % 2 == 0 else "held-out", t) for i, t in enumerate(members)]
    return order


def build(templates: Path) -> dict[str, list[dict[str, Any]]]:
    """Make both halves from every template set, with a fixed seed."""
    rng = random.Random(SEED)
    fake = Faker("en_GB")
    fake.seed_instance(SEED)
    halves: dict[str, list[dict[str, Any]]] = {"development": [], "held-out": []}
    sets = [
        ("presidio", "en", presidio_templates(templates)),
        ("hotline", "en", ENGLISH),
        ("hotline", "cy", WELSH),
    ]
    for source, language, chosen in sets:
        order = dealt(chosen, rng)
        filler = Filler(fake, rng, welsh=language == "cy")
        for (half_name, template), made in zip(
            order, sentences([t for _, t in order], filler, PER_TEMPLATE), strict=True
        ):
            half = halves[half_name]
            for sentence in made:
                half.append(
                    {
                        "language": language,
                        "source": source,
                        "template": template,
                        "text": sentence.text,
                        "spans": sentence.spans or [],
                    }
                )
    return halves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=Path, help="presidio-evaluator's templates.txt")
    args = parser.parse_args()
    for half, cases in build(args.templates or _default_templates()).items():
        CORPUS[half].write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n")
        print(f"{half}: {len(cases)} sentences, {sum(len(c['spans']) for c in cases)} spans")


if __name__ == "__main__":
    main()
