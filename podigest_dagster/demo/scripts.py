"""The demo shows' episode scripts as data, with the insights planted in them kept machine-readable.

Every spoken line carries a kind (intro, banter, sponsor, subscribe, outro, question, insight) so
tests and the benchmark can tell whether a digest item came from an insight or from filler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from podigest_dagster.demo.tts import Voice

DEMO_DATE = "2026-11-27"
DEMO_PREVIOUS_DATE = "2026-11-26"



@dataclass(frozen=True)
class Host:
    """A show's speaker and the synthetic voice that reads their lines."""

    name: str
    voice: Voice


@dataclass(frozen=True)
class Show:
    """A podcast: its identity for the RSS feed and its recurring boilerplate."""

    key: str
    name: str
    author: str
    description: str
    link: str
    category: str
    hosts: tuple[Host, ...]
    sponsor: str
    subscribe: str
    outro: str

    def host(self, name: str) -> Host:
        """The host called name."""
        return next(host for host in self.hosts if host.name == name)


@dataclass(frozen=True)
class Line:
    """One spoken turn; insight names the planted insight it states, if any."""

    speaker: str
    text: str
    kind: str = "banter"
    insight: str | None = None


@dataclass(frozen=True)
class Episode:
    """One episode's script and publication facts; vtt marks the episode whose feed ships a transcript."""

    key: str
    show: str
    date: str
    time_utc: str
    title: str
    notes: str
    lines: tuple[Line, ...]
    vtt: bool = False

    @property
    def published(self) -> str:
        """ISO-8601 UTC publication timestamp."""
        return f"{self.date}T{self.time_utc}:00+00:00"


@dataclass(frozen=True)
class PlantedInsight:
    """An insight planted on a day, in canonical words, with the shows that state it that day."""

    key: str
    date: str
    text: str
    shows: tuple[str, ...]
    first_said: str | None = None

    @property
    def cross_show(self) -> bool:
        return len(self.shows) >= 2

    @property
    def repeated(self) -> bool:
        """True when the idea was already said on an earlier day, so it must not reach this day's digest."""
        return self.first_said is not None and self.first_said < self.date


@dataclass(frozen=True)
class Day:
    """One day of podcast publishing: its episodes and the insights planted in them."""

    date: str
    episodes: tuple[Episode, ...]
    planted: tuple[PlantedInsight, ...] = field(default=())

    def expected_top(self) -> list[PlantedInsight]:
        """The insights a good digest of this day should surface: fresh and said by two or more shows."""
        return [p for p in self.planted if p.cross_show and not p.repeated]


def intro(speaker: str, text: str) -> Line:
    return Line(speaker, text, "intro")


def banter(speaker: str, text: str) -> Line:
    return Line(speaker, text, "banter")


def question(speaker: str, text: str) -> Line:
    return Line(speaker, text, "question")


def insight(speaker: str, key: str, text: str) -> Line:
    return Line(speaker, text, "insight", key)


def boilerplate(show: Show, speaker: str, kind: str) -> Line:
    """The show's recurring sponsor read, call to subscribe or outro, word for word."""
    return Line(speaker, getattr(show, kind), kind)


MONEY = Show(
    key="kitchen-table-money",
    name="Kitchen Table Money",
    author="Dana and Leo",
    description="Two friends talk about everyday money: bills, groceries, cars and saving, without the jargon.",
    link="https://kitchentablemoney.example.org/",
    category="Business",
    hosts=(Host("Dana", Voice("en-gb+f4", 145, 60)), Host("Leo", Voice("en-us+m6", 150, 40))),
    sponsor=(
        "This episode is brought to you by Harbor Bank. Open a savings account in five minutes from your phone, "
        "with no monthly fees. Go to harbor bank dot com and use the promo code KITCHEN for a fifty dollar bonus."
    ),
    subscribe="If you enjoy the show, please subscribe and leave us a review. It really helps new listeners find us.",
    outro=(
        "That is all for today. Kitchen Table Money is made by Dana and Leo. "
        "Keep your receipts, and we will see you next time."
    ),
)

WELLNESS = Show(
    key="the-wellness-hour",
    name="The Wellness Hour",
    author="Maya and Ben",
    description="Practical health for busy people: sleep, food, movement and the places we live.",
    link="https://wellnesshour.example.org/",
    category="Health & Fitness",
    hosts=(Host("Maya", Voice("en-gb+f3", 150, 60)), Host("Ben", Voice("en-gb+klatt", 150, 45))),
    sponsor=(
        "Today's show is sponsored by Green Plate, the meal kit with fresh ingredients delivered to your door. "
        "Use the code WELLNESS at checkout to get your first box half price."
    ),
    subscribe="Before we go on, a quick favor. Hit follow in your podcast app and rate the show with five stars.",
    outro=(
        "Thanks for spending part of your day with us. This has been The Wellness Hour. "
        "Take care of yourselves, and we will talk soon."
    ),
)

CITIES = Show(
    key="city-signals",
    name="City Signals",
    author="Tom and Nina",
    description="How cities work: streets, housing, energy and transport, explained by two urbanists.",
    link="https://citysignals.example.org/",
    category="Government",
    hosts=(Host("Tom", Voice("en-us+klatt6", 150, 55)), Host("Nina", Voice("en-gb+f5", 150, 60))),
    sponsor=(
        "City Signals is supported by Metro Bikes. Ride anywhere in town for one low monthly price. "
        "Use promo code SIGNALS to get your first month free."
    ),
    subscribe="If you like what we do, share this episode with a friend and subscribe wherever you get your podcasts.",
    outro="City Signals is an independent production. Thanks for listening, and see you on the next episode.",
)

SHOWS: tuple[Show, ...] = (MONEY, WELLNESS, CITIES)

_PREVIOUS_EPISODES = (
    Episode(
        key="kitchen-table-money-2026-11-26",
        show=MONEY.key,
        date=DEMO_PREVIOUS_DATE,
        time_utc="07:00",
        title="Pharmacy bills and painless saving",
        notes="Why generic medicines cost less, and the one habit that doubles what people save.",
        lines=(
            intro("Dana", "Welcome back to Kitchen Table Money, I'm Dana."),
            intro("Leo", "And I'm Leo. Today we talk about pharmacy bills and a painless way to save."),
            banter("Dana", "Leo, did you finally finish painting the kitchen?"),
            banter("Leo", "Almost. The kitchen is done, but most of the paint ended up on me."),
            insight(
                "Dana",
                "generic-medicines",
                "Generic medicines contain the same active ingredient as the brand name version and must work "
                "the same way. Yet they often cost up to eighty percent less, so always ask your pharmacist "
                "for the generic.",
            ),
            boilerplate(MONEY, "Leo", "sponsor"),
            question("Dana", "So Leo, what is the easiest way to actually save money?"),
            insight(
                "Leo",
                "automatic-saving",
                "Set up an automatic transfer to savings on payday instead of saving whatever is left at the end "
                "of the month. People who automate their saving put away almost twice as much, simply because "
                "they never see the money.",
            ),
            boilerplate(MONEY, "Dana", "subscribe"),
            boilerplate(MONEY, "Leo", "outro"),
        ),
    ),
    Episode(
        key="the-wellness-hour-2026-11-26",
        show=WELLNESS.key,
        date=DEMO_PREVIOUS_DATE,
        time_utc="09:30",
        title="Muscles, medicines and parks",
        notes="Strength training after thirty, what generic drugs really are, and why a park nearby matters.",
        lines=(
            intro("Maya", "Hello and welcome to The Wellness Hour. I'm Maya."),
            intro("Ben", "And I'm Ben. We have three good ones for you today."),
            banter("Maya", "Ben, you look tired. Late night?"),
            banter("Ben", "The neighbor's dog had opinions at three in the morning. Strong opinions."),
            insight(
                "Maya",
                "strength-training",
                "Strength training twice a week slows the loss of muscle that starts in your thirties. "
                "Keeping that muscle protects you from falls and broken bones later in life.",
            ),
            boilerplate(WELLNESS, "Ben", "sponsor"),
            insight(
                "Ben",
                "generic-medicines",
                "A generic drug has the same active ingredient and the same effect as the famous brand. "
                "The only real difference is the price, which is often about eighty percent lower.",
            ),
            insight(
                "Maya",
                "park-nearby",
                "People who live within a ten minute walk of a park are much more likely to exercise every week. "
                "Distance matters more than motivation, so a park close to home is real health care.",
            ),
            boilerplate(WELLNESS, "Ben", "subscribe"),
            boilerplate(WELLNESS, "Maya", "outro"),
        ),
    ),
    Episode(
        key="city-signals-2026-11-26",
        show=CITIES.key,
        date=DEMO_PREVIOUS_DATE,
        time_utc="14:00",
        title="Empty offices and busy parks",
        notes="What to do with half empty office towers, and how parks change the way people move.",
        lines=(
            intro("Tom", "Welcome back to City Signals, I'm Tom."),
            intro("Nina", "And I'm Nina. Today, empty offices and busy parks."),
            banter("Tom", "Nina, I hear you finally got a new bike."),
            banter(
                "Nina", "I did, and I have already got lost twice on it. It is a very fast way to get lost."
            ),
            insight(
                "Nina",
                "office-conversions",
                "Many cities are turning empty office towers into apartments. Since remote work spread, downtown "
                "offices sit half empty on a normal day, and converting them adds homes without building on new land.",
            ),
            boilerplate(CITIES, "Tom", "sponsor"),
            insight(
                "Tom",
                "park-nearby",
                "When a park is within a short walk of home, people exercise far more often. Planners found that "
                "being close to green space matters more than how big the park is.",
            ),
            boilerplate(CITIES, "Nina", "subscribe"),
            boilerplate(CITIES, "Tom", "outro"),
        ),
    ),
)

_DEMO_EPISODES = (
    Episode(
        key="kitchen-table-money-2026-11-27-car",
        show=MONEY.key,
        date=DEMO_DATE,
        time_utc="06:00",
        title="What your car really costs",
        notes="The true cost of owning a car, why paying off a credit card beats investing, and a listener question.",
        lines=(
            intro("Dana", "Welcome back to Kitchen Table Money, I'm Dana."),
            intro("Leo", "And I'm Leo. Today we are talking about the real cost of owning a car."),
            banter("Dana", "Leo, how was your weekend?"),
            banter(
                "Leo", "Honestly, pretty quiet. I spent most of it trying to fix the dishwasher, and I lost."
            ),
            banter("Dana", "The dishwasher always wins. So yeah, let's get into it."),
            insight(
                "Leo",
                "car-true-cost",
                "Most people think the cost of a car is mainly fuel. But once you add insurance, repairs, parking "
                "and the value the car loses every year, the true cost is often about twice what owners guess.",
            ),
            boilerplate(MONEY, "Dana", "sponsor"),
            question(
                "Leo", "Dana, a listener asked whether she should invest or pay off her credit card first."
            ),
            insight(
                "Dana",
                "credit-card-first",
                "Paying off a credit card that charges twenty percent interest is the same as earning a guaranteed "
                "twenty percent return. No investment reliably beats that, so clear the card before you invest.",
            ),
            insight(
                "Leo",
                "generic-medicines",
                "Another listener asked about medicine costs. Generic drugs have exactly the same active ingredient "
                "as brand name drugs and work just as well, but they cost far less, sometimes eighty percent less.",
            ),
            boilerplate(MONEY, "Dana", "subscribe"),
            boilerplate(MONEY, "Leo", "outro"),
        ),
    ),
    Episode(
        key="kitchen-table-money-2026-11-27-bills",
        show=MONEY.key,
        date=DEMO_DATE,
        time_utc="17:30",
        title="Winter bills and grocery money",
        notes="Cutting heating bills with a heat pump, and how a weekly meal plan saves money on groceries.",
        lines=(
            intro("Dana", "Welcome back to Kitchen Table Money, I'm Dana."),
            intro(
                "Leo", "And I'm Leo. It is getting cold, so today is all about winter bills and groceries."
            ),
            intro("Dana", "Coming up, heating, then food, then a quick word from our sponsor."),
            banter("Dana", "Is it just me, or did winter arrive overnight this year?"),
            banter("Leo", "It did. I am wearing two sweaters right now, you know, for research."),
            banter("Dana", "Very scientific. Okay, let's start with the big one."),
            insight(
                "Leo",
                "heat-pumps",
                "Let's talk about heating. A heat pump does not burn fuel to make heat. It moves heat from the "
                "outside air into your home, so it delivers about three units of heat for every unit of electricity "
                "it uses. That is why running costs can drop by a third compared with an old gas boiler.",
            ),
            boilerplate(MONEY, "Dana", "sponsor"),
            insight(
                "Dana",
                "food-waste",
                "A typical family throws away about a quarter of the food it buys. Planning the week's meals and "
                "shopping with a list cuts that waste, and it can save a family of four more than a hundred dollars "
                "a month.",
            ),
            boilerplate(MONEY, "Leo", "subscribe"),
            boilerplate(MONEY, "Dana", "outro"),
        ),
    ),
    Episode(
        key="the-wellness-hour-2026-11-27",
        show=WELLNESS.key,
        date=DEMO_DATE,
        time_utc="09:30",
        title="Heat, noise and the grocery bin",
        notes="How street trees protect us in heat waves, why night traffic noise matters, and wasting less food.",
        lines=(
            intro("Maya", "Hello and welcome to The Wellness Hour. I'm Maya."),
            intro("Ben", "And I'm Ben. Today, the hidden ways our streets and kitchens shape our health."),
            banter("Maya", "Ben, did the neighbor's dog let you sleep this week?"),
            banter("Ben", "We have reached a peace deal. I give him biscuits, he gives me silence."),
            banter("Maya", "Honestly, that is the best deal anyone has made all year."),
            insight(
                "Maya",
                "night-noise",
                "Traffic noise at night harms your health even when it does not wake you up. It breaks your sleep "
                "into lighter stages, and over the years that raises blood pressure and the risk of heart disease.",
            ),
            insight(
                "Ben",
                "street-trees",
                "Street trees matter for health more than people think. The shade from a row of trees can make a "
                "street several degrees cooler during a heat wave, and that protects older people, who are the "
                "most likely to suffer heat stroke.",
            ),
            boilerplate(WELLNESS, "Ben", "sponsor"),
            insight(
                "Maya",
                "food-waste",
                "Roughly one quarter of the groceries people buy end up in the bin. Writing a simple meal plan "
                "before you shop is the easiest way to waste less food, and it saves a surprising amount of money "
                "every month.",
            ),
            insight(
                "Ben",
                "generic-medicines",
                "And remember that generic medicines are just as effective as the brand name ones, because they "
                "contain the same active ingredient. Choosing the generic can cut what you pay by up to eighty percent.",
            ),
            boilerplate(WELLNESS, "Maya", "subscribe"),
            boilerplate(WELLNESS, "Ben", "outro"),
        ),
    ),
    Episode(
        key="city-signals-2026-11-27",
        show=CITIES.key,
        date=DEMO_DATE,
        time_utc="14:00",
        title="Cooler, quieter, cheaper streets",
        notes="Heat pumps in city climate plans, trees against heat waves, quieter roads at night, and car costs.",
        vtt=True,
        lines=(
            intro("Tom", "Welcome back to City Signals, I'm Tom."),
            intro("Nina", "And I'm Nina. Today, how to make streets cooler, quieter and cheaper to live on."),
            banter("Tom", "Nina, still getting lost on the new bike?"),
            banter("Nina", "Only once this week. I call that progress."),
            banter("Tom", "Great. Alright, we have a lot to get through, so let's jump in."),
            insight(
                "Nina",
                "heat-pumps",
                "Heat pumps are the quiet star of city climate plans. Instead of burning gas, they pull warmth from "
                "the outside air, and they give roughly three times more heat than the electricity they consume. "
                "For households, that often means heating bills fall by about a third.",
            ),
            insight(
                "Tom",
                "street-trees",
                "Planting trees along streets is one of the cheapest ways to cool a city. Neighborhoods with plenty "
                "of tree shade can be several degrees cooler in summer heat waves, which means fewer older residents "
                "end up in hospital.",
            ),
            boilerplate(CITIES, "Nina", "sponsor"),
            insight(
                "Tom",
                "night-noise",
                "Night time traffic noise is a public health problem, not just an annoyance. Even if you sleep "
                "through it, the noise keeps your sleep shallow, and years of that push up blood pressure. Quieter "
                "road surfaces and lower speed limits at night really help.",
            ),
            insight(
                "Nina",
                "car-true-cost",
                "Drivers routinely underestimate what their car costs them. When you count insurance, maintenance, "
                "parking and depreciation, the real total is roughly double their estimate, and that is why good "
                "buses and safe bike lanes save families real money.",
            ),
            boilerplate(CITIES, "Tom", "subscribe"),
            boilerplate(CITIES, "Nina", "outro"),
        ),
    ),
)

_CANONICAL = {
    "generic-medicines": "Generic medicines have the same active ingredient and effect as brand name drugs but cost up to eighty percent less.",
    "automatic-saving": "Automating a transfer to savings on payday roughly doubles what people save, because they never see the money.",
    "strength-training": "Strength training twice a week slows the muscle loss that starts in your thirties and protects against falls later.",
    "park-nearby": "Living within a short walk of a park makes people exercise far more; distance matters more than the park's size.",
    "office-conversions": "Cities convert half-empty downtown office towers into apartments, adding homes without using new land.",
    "car-true-cost": "Counting insurance, repairs, parking and depreciation, a car costs about twice what owners guess.",
    "credit-card-first": "Paying off a twenty percent credit card is a guaranteed twenty percent return, so clear it before investing.",
    "heat-pumps": "Heat pumps move heat from outside air, giving about three units of heat per unit of electricity and cutting heating bills by about a third.",
    "food-waste": "Families throw away about a quarter of the food they buy; a weekly meal plan and a shopping list cut waste and save money.",
    "night-noise": "Night traffic noise fragments sleep even without waking you, and over years raises blood pressure and heart risk.",
    "street-trees": "Street tree shade makes streets several degrees cooler in heat waves, protecting older people from heat stroke.",
}


def planted_for(
    episodes: tuple[Episode, ...], canonical: dict[str, str], earlier: dict[str, str]
) -> tuple[PlantedInsight, ...]:
    """Collect each planted insight of a day with the shows that state it; earlier maps keys to their first date."""
    shows: dict[str, list[str]] = {}
    date = episodes[0].date
    for episode in episodes:
        for line in episode.lines:
            if line.insight and episode.show not in shows.setdefault(line.insight, []):
                shows[line.insight].append(episode.show)
    return tuple(
        PlantedInsight(key, date, canonical[key], tuple(sorted(names)), earlier.get(key, date))
        for key, names in shows.items()
    )


PREVIOUS_DAY = Day(DEMO_PREVIOUS_DATE, _PREVIOUS_EPISODES, planted_for(_PREVIOUS_EPISODES, _CANONICAL, {}))
DEMO_DAY = Day(
    DEMO_DATE,
    _DEMO_EPISODES,
    planted_for(_DEMO_EPISODES, _CANONICAL, {p.key: p.date for p in PREVIOUS_DAY.planted}),
)
DEMO_DAYS: tuple[Day, ...] = (PREVIOUS_DAY, DEMO_DAY)
