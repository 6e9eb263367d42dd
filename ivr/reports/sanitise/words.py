"""Word lists the checks share: street words in English and Welsh, ranks, words that are no name.

Welsh words are listed with their mutated forms, as they follow "ar" or "yn" in speech
("ar Gilgant y Bont", "yng Nghaerdydd").
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def alternation(words: frozenset[str]) -> str:
    """A regular-expression choice of ``words``, longest first so that "gardens" beats "garden"."""
    return "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))


# The last word of an English street name: Royal Mail's common thoroughfare descriptors,
# with their abbreviations and the regional ones (ginnel, wynd, garth).
STREET_TYPES = _words(
    "road rd street st avenue ave av lane ln close cl drive dr way crescent cres court ct "
    "gardens garden gdns place pl terrace tce grove gr hill hills walk row square sq mews rise "
    "view views parade vale mount fold croft yard wharf green greens bank park approach chase "
    "dale garth wynd gate lea leas side end meadow meadows field fields brow hey heights "
    "bridge brook common corner cottages cross estate glen grange heath hollow lodge manor mill "
    "mills moor orchard oval passage path ridge villas wood woods boulevard broadway circus "
    "embankment esplanade promenade quay causeway loke ginnel twitten vennel wend ings holme "
    "nook spinney copse paddock pastures link links drove circle loop crest haven nursery "
    "precinct market gait butts bottom bar brae loan steps"
)
# The first word of a Welsh street name ("Heol y Bont", "Stryd Fawr"), and its mutations.
WELSH_STREET_TYPES = _words(
    "heol hewl ffordd stryd stryt lôn lon rhodfa rodfa cilgant gilgant nghilgant maes faes "
    "teras deras nheras sgwâr sgwar clos glos cwrt gwrt nghwrt rhes res llys lys parc barc "
    "mharc cae gae nghae bryn fryn allt gallt rallt pant bant nhant dôl ddôl "
    "tai rhiw riw"
)
WELSH_PARTICLES = "y|yr|'r|ar|ap|uchaf|isaf"

RANKS = _words(
    "pc dc ds di dci dsi wpc psc pcso sgt insp supt constable sergeant inspector detective chief "
    "superintendent officer commander commissioner custody acting temporary special "
    "cwnstabl sarjant rhingyll arolygydd ditectif uwch-arolygydd prif uwch swyddog scch "
    "heddwas plismon plismones"
)
TITLES = _words("mr mrs ms miss mx dr sir dame lord lady rev")
# Words after a number that say how many or when, not which street.
NOT_STREET_NAMES = (
    "the|a|an|and|or|of|in|on|at|to|up|down|by|for|from|with|into|onto|near|past|over|this|"
    "that|his|her|their|my|our|your|its|hour|hours|minute|minutes|mile|miles|day|days|week|"
    "weeks|month|months|year|years|times|people|officers|men|women|cars|o|pm|am|quid|pounds|"
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|police|pc|pcs|pcsos|officer|"
    "oclock|o'clock|percent|per|grand|k|kg|grams|ounces|bags|times|mph|ionawr|chwefror|mawrth|"
    "ebrill|mai|mehefin|gorffennaf|awst|medi|hydref|tachwedd|rhagfyr|i|we|he|she|they|it"
)
NATIONS = _words(
    "british english scottish welsh irish cornish black white asian mixed muslim christian "
    "jewish sikh hindu buddhist catholic protestant polish romanian pakistani indian "
    "bangladeshi african caribbean somali nigerian chinese european gay lesbian bi trans "
    "cymraes cymro cymraeg saesneg"
)
