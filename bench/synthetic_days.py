"""Synthetic podcast days for the insights benchmark: scripted episodes over many unrelated domains.

Each scenario is a pair of days (the day before, then the evaluated day). The evaluated day plants
fresh insights, most paraphrased by two or three shows, one idea already said the day before (it must
not reach the digest again), single-show insights, and the usual intros, banter, sponsor reads, calls to
subscribe and word-for-word outros. In "science-energy-food" and "travel-home-work" two shows also read one
sponsor in their own words (no boilerplate, few of the usual ad phrases): it must not reach the digest.

Splits:
- dev: "demo" (money, health, cities; the bundled demo set) and "science-energy-food". Look at these
  while tuning.
- heldout: "law-sport-school" and "travel-home-work". NEVER tune the pipeline on these: run them only
  to report figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from podigest_dagster.demo.scripts import (
    DEMO_DAY,
    PREVIOUS_DAY,
    Day,
    Episode,
    Host,
    Line,
    Show,
    banter,
    boilerplate,
    insight,
    intro,
    planted_for,
    question,
)
from podigest_dagster.demo.scripts import SHOWS as DEMO_SHOWS
from podigest_dagster.demo.tts import Voice


def sponsor_read(speaker: str, text: str) -> Line:
    """A sponsor read in the host's own words: none of the show's boilerplate, few of the usual phrases."""
    return Line(speaker, text, "sponsor")


SPLITS = {"dev": ("demo", "science-energy-food"), "heldout": ("law-sport-school", "travel-home-work")}


@dataclass(frozen=True)
class Scenario:
    """A benchmark case: the shows, the day before (history) and the evaluated day."""

    name: str
    split: str
    shows: tuple[Show, ...]
    previous: Day
    day: Day


def _show(key: str, name: str, hosts: tuple[Host, Host], sponsor: str, subscribe: str, outro: str) -> Show:
    return Show(
        key=key,
        name=name,
        author=f"{hosts[0].name} and {hosts[1].name}",
        description=f"{name}: a weekly conversation.",
        link=f"https://{key}.example.org/",
        category="Education",
        hosts=hosts,
        sponsor=sponsor,
        subscribe=subscribe,
        outro=outro,
    )


def _episode(
    show: Show,
    date: str,
    time_utc: str,
    title: str,
    topic: str,
    chat: tuple[str, str],
    body: tuple[Line, ...],
) -> Episode:
    """An episode in the usual shape: intro, banter, the first point, the sponsor, the rest, subscribe, outro."""
    first, second = (host.name for host in show.hosts)
    lines = (
        intro(first, f"Welcome back to {show.name}, I'm {first}."),
        intro(second, f"And I'm {second}. Today, {topic}."),
        banter(first, chat[0]),
        banter(second, chat[1]),
        *body[:1],
        boilerplate(show, second, "sponsor"),
        *body[1:],
        boilerplate(show, first, "subscribe"),
        boilerplate(show, second, "outro"),
    )
    return Episode(f"{show.key}-{date}", show.key, date, time_utc, title, f"{title}: {topic}.", lines)


def _day(
    date: str, episodes: tuple[Episode, ...], canonical: dict[str, str], earlier: Day | None = None
) -> Day:
    first_said = {p.key: p.date for p in earlier.planted} if earlier else {}
    return Day(date, episodes, planted_for(episodes, canonical, first_said))


# --- science, energy, food (dev) ---------------------------------------------------------------------------

LAB = _show(
    "lab-notes",
    "Lab Notes",
    (Host("Alex", Voice("en-us+Alex", 150, 45)), Host("Rosa", Voice("en-gb+f3", 150, 62))),
    "Lab Notes is brought to you by Star Box, the science kit for curious kids. Use the code LAB for ten percent off.",
    "If you learned something today, please rate and review the show. It means a lot to us.",
    "That is our show. Lab Notes is made with care by Alex and Rosa. Stay curious, and see you next week.",
)
POWER = _show(
    "power-lines",
    "Power Lines",
    (Host("Mark", Voice("en-us+m6", 150, 40)), Host("Lucy", Voice("en-gb+f5", 150, 60))),
    "This show is supported by Bright Home Solar. Get a free quote today and use the code POWER to save two hundred dollars.",
    "Please subscribe to Power Lines in your podcast app, and tell a friend about us.",
    "Thanks for listening to Power Lines. We will be back next week with more energy news.",
)
FOOD = _show(
    "the-food-desk",
    "The Food Desk",
    (Host("Sara", Voice("en-gb+f4", 145, 60)), Host("Jack", Voice("en-gb+klatt", 150, 45))),
    "Today's episode is sponsored by Fresh Crate. Fresh vegetables from local farms every week. Use promo code DESK for free delivery.",
    "Do not forget to follow the show and leave us five stars. It really helps.",
    "That is all from The Food Desk this week. Eat well, and we will see you soon.",
)

SEF_CANONICAL = {
    "sleep-memory": "Sleep consolidates memory: studying before a full night of sleep beats cramming late.",
    "battery-prices": "Battery prices fell about ninety percent in ten years, making solar plus storage cheaper than new gas plants.",
    "induction-stoves": "Induction stoves heat faster, waste less energy than gas, and avoid indoor air pollution from burning gas.",
    "microbiome-fiber": "Fiber feeds gut bacteria that make compounds which calm inflammation; most people eat half the fiber they need.",
    "cold-chain": "About a third of food is lost before reaching shops, often for lack of refrigeration, so cold storage cuts waste.",
    "ocean-heat": "Oceans absorb about ninety percent of the extra heat from warming, so sea temperatures keep rising for decades.",
    "beans-protein": "Beans and lentils give cheap protein with a fraction of the emissions of beef.",
    "led-savings": "LED bulbs use about a quarter of the power of old bulbs and last many years, paying for themselves fast.",
}

_SEF_PREV_DATE, _SEF_DATE = "2026-10-14", "2026-10-15"

SEF_PREVIOUS = _day(
    _SEF_PREV_DATE,
    (
        _episode(
            LAB,
            _SEF_PREV_DATE,
            "08:00",
            "Why the sea keeps warming",
            "the ocean and the memory of a sleeping brain",
            (
                "Rosa, did you get to the beach this weekend?",
                "I did, and the water was cold enough to wake the dead.",
            ),
            (
                insight(
                    "Rosa",
                    "ocean-heat",
                    "The oceans have absorbed about ninety percent of the extra heat from global warming. Because "
                    "water stores heat for a long time, sea temperatures will keep rising for decades even if "
                    "emissions stop.",
                ),
            ),
        ),
        _episode(
            POWER,
            _SEF_PREV_DATE,
            "12:00",
            "Light bulbs and the heat of the sea",
            "small savings and big oceans",
            ("Lucy, how is the new flat?", "Cold. I have learned where every draft in the building lives."),
            (
                insight(
                    "Mark",
                    "led-savings",
                    "Switching to LED bulbs is the fastest payback in the house. They use about a quarter of the "
                    "power of old bulbs and last for many years, so they pay for themselves within months.",
                ),
                insight(
                    "Lucy",
                    "ocean-heat",
                    "Most of the heat trapped by greenhouse gases ends up in the sea, around ninety percent of it. "
                    "That stored heat means ocean temperatures will go on rising for decades.",
                ),
            ),
        ),
        _episode(
            FOOD,
            _SEF_PREV_DATE,
            "17:00",
            "Protein on a budget",
            "cheap protein",
            ("Jack, what did you cook last night?", "Toast. It was a long day, and the toast was excellent."),
            (
                insight(
                    "Sara",
                    "beans-protein",
                    "Beans and lentils are the cheapest protein in the shop. They also produce a tiny fraction of "
                    "the emissions of beef for the same amount of protein.",
                ),
            ),
        ),
    ),
    SEF_CANONICAL,
)

SEF_DAY = _day(
    _SEF_DATE,
    (
        _episode(
            LAB,
            _SEF_DATE,
            "08:00",
            "Sleep, gut bacteria and the sea",
            "sleep, fiber and the oceans",
            ("Alex, you look rested for once.", "I slept nine hours. I feel like a new machine."),
            (
                insight(
                    "Alex",
                    "sleep-memory",
                    "Sleep is when the brain files away what you learned during the day. Students who study and then "
                    "get a full night of sleep remember far more than those who stay up late cramming.",
                ),
                question("Rosa", "So what should people eat if they care about their gut?"),
                insight(
                    "Alex",
                    "microbiome-fiber",
                    "Fiber is food for the bacteria in your gut, and those bacteria turn it into compounds that calm "
                    "inflammation. Most adults eat only about half the fiber they need.",
                ),
                insight(
                    "Rosa",
                    "ocean-heat",
                    "Remember that the oceans soak up about ninety percent of the extra heat, which is why sea "
                    "temperatures keep climbing year after year.",
                ),
            ),
        ),
        _episode(
            POWER,
            _SEF_DATE,
            "12:00",
            "Cheap batteries and better stoves",
            "batteries, kitchens and cold storage",
            ("Lucy, did you fix the drafts?", "I bought a roll of tape and declared victory."),
            (
                insight(
                    "Mark",
                    "battery-prices",
                    "Battery prices have fallen by about ninety percent in ten years. That is why solar panels with "
                    "battery storage are now cheaper to build than new gas power plants in many countries.",
                ),
                insight(
                    "Lucy",
                    "induction-stoves",
                    "Induction stoves heat a pan faster than gas and waste much less energy. They also remove the "
                    "indoor air pollution that comes from burning gas in the kitchen.",
                ),
                sponsor_read(
                    "Mark",
                    "A quick pause here: the next few minutes reach you courtesy of Tally Heat. Tally is a smart valve for your "
                    "radiators that learns when you are home. It turns the heating down when the house is empty. Order one at tally "
                    "heat dot com, and fitting is free this month.",
                ),
                insight(
                    "Mark",
                    "cold-chain",
                    "Around a third of the world's food is lost before it reaches a shop, often because farmers "
                    "have no refrigeration. Cold storage powered by solar is one of the best ways to cut that waste.",
                ),
                insight(
                    "Lucy",
                    "ocean-heat",
                    "And the sea is storing almost all of the extra heat, roughly ninety percent, so ocean "
                    "temperatures will keep rising.",
                ),
            ),
        ),
        _episode(
            FOOD,
            _SEF_DATE,
            "17:00",
            "Stoves, fiber and lost harvests",
            "what happens before food reaches your plate",
            ("Sara, I finally cooked a real dinner.", "More than toast? I am proud of you, Jack."),
            (
                insight(
                    "Sara",
                    "induction-stoves",
                    "Many chefs are switching from gas to induction. It boils water faster, loses less heat into the "
                    "room, and it does not fill the kitchen with the fumes that burning gas creates.",
                ),
                sponsor_read(
                    "Jack",
                    "The people at Tally Heat help keep the lights on at The Food Desk. Their little valve sits on each radiator "
                    "and knows when nobody is in. Listeners get the fitting free if they order at tally heat dot com this month.",
                ),
                insight(
                    "Jack",
                    "microbiome-fiber",
                    "Your gut bacteria live on fiber, and when they digest it they make substances that reduce "
                    "inflammation. Yet most of us get only half the fiber we should.",
                ),
                insight(
                    "Sara",
                    "cold-chain",
                    "A huge share of food, about one third, spoils between the farm and the shop because there is "
                    "no cold storage. Better refrigeration saves more food than any clever recipe.",
                ),
                insight(
                    "Jack",
                    "battery-prices",
                    "Even restaurants are adding solar with batteries now, because battery costs dropped around "
                    "ninety percent in a decade and it is cheaper than paying for power from new gas plants.",
                ),
                insight(
                    "Sara",
                    "sleep-memory",
                    "A tip for students: a good night of sleep after studying helps you remember more than an extra "
                    "late hour of cramming, because the brain stores memories while you sleep.",
                ),
            ),
        ),
    ),
    SEF_CANONICAL,
    SEF_PREVIOUS,
)

# --- law, sport, school (held out) -------------------------------------------------------------------------

CASE = _show(
    "case-closed",
    "Case Closed",
    (Host("Paul", Voice("en-us+klatt6", 150, 55)), Host("Emma", Voice("en-gb+f5", 150, 60))),
    "Case Closed is sponsored by Simple Will. Write your will online in twenty minutes. Use the code CASE for twenty percent off.",
    "If you enjoy Case Closed, please leave a review and subscribe so you never miss an episode.",
    "Case Closed is for information only and is not legal advice. Thanks for listening, and see you next time.",
)
FULL = _show(
    "full-time",
    "Full Time",
    (Host("Dan", Voice("en-us+m6", 150, 40)), Host("Kate", Voice("en-gb+f3", 150, 62))),
    "Full Time is brought to you by Pace Shoes. Running shoes built for every distance. Use code FULL for fifteen percent off.",
    "Hit subscribe and share the show with your team mates.",
    "That is the final whistle for today. Full Time is back next week.",
)
CLASS = _show(
    "class-notes",
    "Class Notes",
    (Host("Ruth", Voice("en-gb+f4", 145, 60)), Host("Sam", Voice("en-us+Michael", 150, 45))),
    "Class Notes is supported by Book Nook, the reading app for families. Use the code CLASS for a free month.",
    "Please follow Class Notes and leave us a rating. Teachers, share us in the staff room.",
    "That is the bell. Thanks for listening to Class Notes, and we will see you next lesson.",
)

LSS_CANONICAL = {
    "tenancy-photos": "Photograph a rental on move-in day; dated photos are the strongest evidence to win back a deposit.",
    "eyewitness": "Eyewitness memory is unreliable and changes with retelling; mistaken identification features in most overturned convictions.",
    "sleep-athletes": "Athletes who sleep more react faster and get injured less; sleep beats extra training for teenagers.",
    "spaced-practice": "Spreading practice over days beats one long session, in sport and in school, because forgetting and relearning strengthens memory.",
    "reading-aloud": "Reading aloud to young children daily builds vocabulary; they hear about a million more words before school.",
    "small-claims": "Small claims courts let people recover money without a lawyer; the process is simple and fees are low.",
    "warm-up": "A dynamic warm-up of moving stretches cuts injuries far more than static stretching before sport.",
    "phones-class": "Banning phones in class improves test scores, most for the weakest students, by removing distraction.",
}

_LSS_PREV_DATE, _LSS_DATE = "2026-09-08", "2026-09-09"

LSS_PREVIOUS = _day(
    _LSS_PREV_DATE,
    (
        _episode(
            CASE,
            _LSS_PREV_DATE,
            "07:30",
            "Getting your money back",
            "small claims",
            ("Emma, how was the holiday?", "Lovely, until the airline lost my bag for three days."),
            (
                insight(
                    "Paul",
                    "small-claims",
                    "Small claims court is designed for people without a lawyer. The forms are simple and the fees "
                    "are low, so it is often the fastest way to get back money a business owes you.",
                ),
            ),
        ),
        _episode(
            FULL,
            _LSS_PREV_DATE,
            "13:00",
            "Before the whistle",
            "how to warm up properly",
            ("Kate, did your team win on Saturday?", "We lost, but we lost with style."),
            (
                insight(
                    "Dan",
                    "warm-up",
                    "A dynamic warm-up, with moving stretches and light running, cuts injuries far more than "
                    "holding static stretches before a game.",
                ),
                insight(
                    "Kate",
                    "phones-class",
                    "Schools that ban phones in class see test scores go up, and the weakest students gain the most, "
                    "simply because the distraction is gone.",
                ),
            ),
        ),
        _episode(
            CLASS,
            _LSS_PREV_DATE,
            "18:00",
            "The phone question",
            "phones in the classroom",
            (
                "Sam, ready for a new school year?",
                "I have bought forty new pens. I will lose them all by Friday.",
            ),
            (
                insight(
                    "Ruth",
                    "phones-class",
                    "When schools take phones out of the classroom, results improve, especially for students who "
                    "were struggling, because they are no longer pulled away by every message.",
                ),
            ),
        ),
    ),
    LSS_CANONICAL,
)

LSS_DAY = _day(
    _LSS_DATE,
    (
        _episode(
            CASE,
            _LSS_DATE,
            "07:30",
            "Deposits and witnesses",
            "renting and remembering",
            ("Emma, did the airline find your bag?", "They did. It had a better holiday than I did."),
            (
                insight(
                    "Emma",
                    "tenancy-photos",
                    "On the day you move into a rental, photograph every room and every mark on the walls. Dated "
                    "photos are the strongest evidence you can have when a landlord tries to keep your deposit.",
                ),
                insight(
                    "Paul",
                    "eyewitness",
                    "Eyewitness memory is far less reliable than juries believe. Memories change each time a story is "
                    "retold, and mistaken identification plays a part in most convictions later overturned by DNA.",
                ),
                insight(
                    "Emma",
                    "phones-class",
                    "Even courts have noticed the research on schools: banning phones in class raises test scores, "
                    "and struggling students benefit the most.",
                ),
            ),
        ),
        _episode(
            FULL,
            _LSS_DATE,
            "13:00",
            "Sleep like a champion",
            "sleep, practice and what coaches get wrong",
            (
                "Kate, any news from the team?",
                "We won! Mostly because the other team did not turn up on time.",
            ),
            (
                insight(
                    "Kate",
                    "sleep-athletes",
                    "Young athletes who sleep more than eight hours react faster and get injured much less often. "
                    "For a teenager, an extra hour of sleep does more than an extra hour of training.",
                ),
                insight(
                    "Dan",
                    "spaced-practice",
                    "Short practice sessions spread over the week build skill better than one long session. The "
                    "small amount of forgetting between sessions makes the brain work harder to relearn, and that "
                    "locks the skill in.",
                ),
                insight(
                    "Dan",
                    "reading-aloud",
                    "Our youth coach says the best thing parents can do has nothing to do with sport. Reading aloud to "
                    "young children every day gives them about a million more words by the time school starts.",
                ),
                insight(
                    "Kate",
                    "eyewitness",
                    "Referees are like eyewitnesses. People are sure of what they saw, but memory rewrites itself "
                    "each time you tell the story, which is why witness mistakes sit behind so many wrongful "
                    "convictions.",
                ),
            ),
        ),
        _episode(
            CLASS,
            _LSS_DATE,
            "18:00",
            "Bedtime stories and better revision",
            "reading, sleep and study habits",
            ("Sam, how many pens are left?", "Three. I am not proud of it."),
            (
                insight(
                    "Ruth",
                    "reading-aloud",
                    "Reading aloud to young children every day builds their vocabulary. Children who are read to "
                    "daily hear about a million more words before they start school.",
                ),
                insight(
                    "Sam",
                    "spaced-practice",
                    "Revision works best in small doses spread over days rather than one long night. Forgetting a "
                    "little and then recalling it again is exactly what makes memories last.",
                ),
                insight(
                    "Ruth",
                    "sleep-athletes",
                    "Teenagers who play sport need more sleep than adults. Coaches now see that well rested players "
                    "react faster and pick up fewer injuries than those who train more but sleep less.",
                ),
                insight(
                    "Ruth",
                    "phones-class",
                    "And one more on phones: classrooms without phones get better results, and the students who "
                    "struggle the most improve the most, since nothing pulls their attention away.",
                ),
                insight(
                    "Sam",
                    "tenancy-photos",
                    "A tip for teachers who rent: take dated photos of the flat on the day you move in. They are your "
                    "best proof if the landlord tries to keep the deposit.",
                ),
            ),
        ),
    ),
    LSS_CANONICAL,
    LSS_PREVIOUS,
)

# --- travel, home, work (held out) -------------------------------------------------------------------------

ROAD = _show(
    "carry-on",
    "Carry On",
    (Host("Nick", Voice("en-us+Andy", 150, 45)), Host("Jane", Voice("en-gb+f5", 150, 60))),
    "Carry On is sponsored by Sky Miles Card. Earn points on every trip. Use the code CARRY for a welcome bonus.",
    "If you like the show, subscribe and leave us a review. Safe travels, everyone.",
    "That is it for this trip. Carry On is made by Nick and Jane. Pack light, and see you next week.",
)
HOME = _show(
    "home-ground",
    "Home Ground",
    (Host("Beth", Voice("en-gb+f3", 150, 62)), Host("Greg", Voice("en-us+m6", 150, 40))),
    "Home Ground is brought to you by Green Thumb Tools. Garden tools that last a lifetime. Use code HOME for free shipping.",
    "Please follow the show and rate us five stars in your podcast app.",
    "Thanks for joining us on Home Ground. Happy gardening, and see you soon.",
)
WORK = _show(
    "nine-to-five",
    "Nine to Five",
    (Host("Mia", Voice("en-gb+f4", 145, 60)), Host("Joe", Voice("en-gb+klatt", 150, 45))),
    "Nine to Five is supported by Desk Pro, the standing desk that fits any office. Use the code NINE for ten percent off.",
    "Subscribe to Nine to Five, and share this episode with a colleague who needs it.",
    "That is the end of the working day. Nine to Five is back next week.",
)

THW_CANONICAL = {
    "jet-lag-light": "Daylight at the destination resets the body clock faster than any pill; get morning sun after flying east.",
    "booking-flights": "Flight prices depend on demand, not on the day you search; booking one to three months ahead gets the best fares.",
    "compost-soil": "Compost improves soil structure so it holds more water, cutting watering needs in dry summers.",
    "meeting-length": "Shorter meetings with a clear agenda save hours each week; people lose focus after about thirty minutes.",
    "indoor-plants-air": "Houseplants do little for indoor air; opening a window for ten minutes clears more pollution.",
    "walking-meetings": "Walking meetings boost creative thinking; people come up with more new ideas while walking than sitting.",
    "travel-insurance": "Credit cards often include travel insurance, so check before buying a separate policy.",
    "rainwater": "A rain barrel collects thousands of liters a year from a roof, enough to water a garden all summer.",
}

_THW_PREV_DATE, _THW_DATE = "2026-08-20", "2026-08-21"

THW_PREVIOUS = _day(
    _THW_PREV_DATE,
    (
        _episode(
            ROAD,
            _THW_PREV_DATE,
            "06:30",
            "Read the small print",
            "insurance before you fly",
            ("Jane, where are you this week?", "My own sofa, which is my favorite destination."),
            (
                insight(
                    "Nick",
                    "travel-insurance",
                    "Many credit cards already include travel insurance when you pay for the trip with the card. "
                    "Check your card before you buy a separate policy, or you may pay twice for the same cover.",
                ),
            ),
        ),
        _episode(
            HOME,
            _THW_PREV_DATE,
            "11:00",
            "Plants and fresh air",
            "what houseplants can and cannot do",
            ("Greg, how are the tomatoes?", "There are two. I have named them both."),
            (
                insight(
                    "Beth",
                    "indoor-plants-air",
                    "Houseplants are lovely, but they do almost nothing to clean indoor air. Opening a window for ten "
                    "minutes removes far more pollution than a room full of plants.",
                ),
                insight(
                    "Greg",
                    "rainwater",
                    "A single rain barrel under a roof can collect thousands of liters of water in a year, which is "
                    "enough to water a small garden all summer.",
                ),
            ),
        ),
        _episode(
            WORK,
            _THW_PREV_DATE,
            "16:00",
            "Fresh air at the office",
            "the air we work in",
            ("Joe, how was your first week in the new office?", "The coffee is good. The chairs are not."),
            (
                insight(
                    "Mia",
                    "indoor-plants-air",
                    "Putting plants on every desk will not fix stuffy office air. Ten minutes with the windows open "
                    "does much more to clear pollution than any number of plants.",
                ),
            ),
        ),
    ),
    THW_CANONICAL,
)

THW_DAY = _day(
    _THW_DATE,
    (
        _episode(
            ROAD,
            _THW_DATE,
            "06:30",
            "Beating jet lag",
            "jet lag and cheaper flights",
            ("Jane, you are back from Tokyo!", "I am, and my body still thinks it is lunch time."),
            (
                insight(
                    "Jane",
                    "jet-lag-light",
                    "The best cure for jet lag is daylight at your destination. After flying east, get outside in the "
                    "morning sun, because light resets your body clock faster than any pill.",
                ),
                insight(
                    "Nick",
                    "booking-flights",
                    "Flight prices are driven by demand, not by the day of the week you search. The best fares usually "
                    "appear one to three months before the trip.",
                ),
                insight(
                    "Jane",
                    "walking-meetings",
                    "On long trips I hold my work calls while walking. People come up with more new ideas when they "
                    "walk than when they sit, and a walking meeting is the easy way to use that.",
                ),
                insight(
                    "Nick",
                    "indoor-plants-air",
                    "Hotel rooms full of plants look fresh, but to clear the air just open the window for ten minutes.",
                ),
            ),
        ),
        _episode(
            HOME,
            _THW_DATE,
            "11:00",
            "Soil that holds water",
            "compost, light and the garden office",
            ("Greg, did the tomatoes survive?", "Both of them. They are thriving, unlike my lawn."),
            (
                insight(
                    "Beth",
                    "compost-soil",
                    "Adding compost changes the structure of soil so that it holds much more water. In a dry summer "
                    "that means you water less often and your plants still do better.",
                ),
                sponsor_read(
                    "Beth",
                    "Now, this hour of the show is paid for by Pebble Savings. Pebble rounds up every card purchase and puts the "
                    "spare change in a savings pot. You can open a pot in two minutes at pebble savings dot com, and the first "
                    "year has no fees.",
                ),
                insight(
                    "Greg",
                    "jet-lag-light",
                    "Gardeners who travel know this one: after a long flight east, spend the morning outside in "
                    "daylight. Sunlight resets the body clock much faster than sleeping pills.",
                ),
                insight(
                    "Beth",
                    "rainwater",
                    "Remember the rain barrel: one barrel under the roof collects thousands of liters a year, enough "
                    "for the whole garden in summer.",
                ),
                insight(
                    "Greg",
                    "meeting-length",
                    "Since I started working from the garden shed, I keep meetings short and send an agenda first. "
                    "After about thirty minutes people stop paying attention, so long meetings waste hours every week.",
                ),
            ),
        ),
        _episode(
            WORK,
            _THW_DATE,
            "16:00",
            "Shorter meetings, better ideas",
            "meetings that work",
            ("Joe, did you fix the chair?", "I did not. I have joined the standing desk movement instead."),
            (
                insight(
                    "Mia",
                    "meeting-length",
                    "Most meetings run too long. Attention drops after about thirty minutes, so a short meeting with a "
                    "clear agenda can give each person back several hours a week.",
                ),
                sponsor_read(
                    "Joe",
                    "Part of our work week is funded by Pebble Savings, and we are grateful. Pebble takes the change from every "
                    "card payment and saves it for you. Start a pot at pebble savings dot com, with no fees for a year.",
                ),
                insight(
                    "Joe",
                    "walking-meetings",
                    "Try a walking meeting. Studies found people produce more creative ideas while walking than while "
                    "sitting at a desk.",
                ),
                insight(
                    "Mia",
                    "booking-flights",
                    "For work trips, book flights one to three months ahead. The price depends on demand, not on "
                    "which day you happen to search.",
                ),
                insight(
                    "Joe",
                    "compost-soil",
                    "My weekend project is the garden. Compost makes soil hold more water, so in a dry summer you need "
                    "to water far less.",
                ),
            ),
        ),
    ),
    THW_CANONICAL,
    THW_PREVIOUS,
)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("demo", "dev", DEMO_SHOWS, PREVIOUS_DAY, DEMO_DAY),
    Scenario("science-energy-food", "dev", (LAB, POWER, FOOD), SEF_PREVIOUS, SEF_DAY),
    Scenario("law-sport-school", "heldout", (CASE, FULL, CLASS), LSS_PREVIOUS, LSS_DAY),
    Scenario("travel-home-work", "heldout", (ROAD, HOME, WORK), THW_PREVIOUS, THW_DAY),
)


def scenarios(split: str = "all") -> list[Scenario]:
    """The scenarios of a split: dev, heldout or all."""
    if split == "all":
        return list(SCENARIOS)
    return [s for s in SCENARIOS if s.name in SPLITS[split]]


def planted_insights(split: str = "all") -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
    """Per evaluated day: (insight key, canonical text, shows saying it) for every planted insight."""
    return {s.day.date: [(p.key, p.text, p.shows) for p in s.day.planted] for s in scenarios(split)}
