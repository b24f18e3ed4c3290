// Generates the text-safety filter's word lists as C++ (run by CMake at build time; the output
// lives in the build tree and is never committed):
//
//   node core/safety/gen_wordlists.mjs OUT.cc
//
// Sources (npm, pinned in package-lock.json; each licence is checked here and recorded in the
// output): obscenity's English dataset (MIT; patterns with word-boundary markers and a
// whitelist), @2toad/profanity's English list (MIT) and naughty-words' en.json (CC-BY-4.0,
// LDNOOBW; attribution required). English only for now.
//
// What this script decides (policy; the C++ side only matches):
// - Keys are normalized like the matcher's text: lower case, leetspeak mapped to letters
//   (0→o 1→i 3→e 4→a 5→s 7→t @→a $→s !→i +→t), separators (space - _ .) become one space,
//   which the matcher treats as an optional word break. Keys with anything else are dropped.
// - obscenity's patterns are expanded: [x] optional parts both ways, [?] wildcards to vowels.
//   Its terms are "severe" (blocked on a plain match) unless listed in MILD below (anatomy,
//   words with innocent meanings, reclaimed words): those only ever need review. Expansions of
//   two letters or fewer ("fu", "fk") are abbreviations with innocent readings, and a wildcard's
//   other readings ("feck" from f[?]ck) are other words: mild too.
// - Terms that only the two plain lists have are matched as whole words and are mild (they are
//   uncurated: no whitelist, no boundaries), except everyday words in EVERYDAY below, which
//   are dropped. Multi-word phrases from them are kept only when one of their words is itself
//   a listed term ("big tits" stays, "girl on" goes). Spelled-out forms ("f u c k", "a_s_s")
//   are dropped: the matcher's spacing detection covers every term that way.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { englishDataset } from 'obscenity';
import { profaneWords } from '@2toad/profanity';
import naughty from 'naughty-words';

const require = createRequire(import.meta.url);
const out = process.argv[2];
if (!out) {
  console.error('usage: node gen_wordlists.mjs OUT.cc');
  process.exit(2);
}

// --- sources and licences ------------------------------------------------------------------
function pkg(name, expectLicense) {
  // package.json is not always exported: walk up from the entry point to the package root.
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) ||
         JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`${name}: package.json not found`);
    dir = up;
  }
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (meta.license !== expectLicense) {
    throw new Error(`${name}: licence is '${meta.license}', expected '${expectLicense}' ` +
                    '(re-check it before using this list)');
  }
  return meta;
}
const SOURCES = [
  {bit: 1, meta: pkg('obscenity', 'MIT'),
   attribution: 'obscenity English dataset, Copyright (c) 2025 Joseph Liu (MIT); its words are ' +
                'from cuss, Copyright (c) 2016 Titus Wormer (MIT)',
   url: 'https://github.com/jo3-l/obscenity'},
  {bit: 2, meta: pkg('@2toad/profanity', 'MIT'),
   attribution: '@2toad/profanity English list, Copyright (c) 2019 2Toad (MIT)',
   url: 'https://github.com/2Toad/Profanity'},
  {bit: 4, meta: pkg('naughty-words', 'CC-BY-4.0'),
   attribution: 'List of Dirty, Naughty, Obscene, and Otherwise Bad Words (en), by Shutterstock ' +
                'and contributors, CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); ' +
                'adapted: normalized, filtered and merged with the lists above',
   url: 'https://github.com/LDNOOBW/List-of-Dirty-Naughty-Obscene-and-Otherwise-Bad-Words'},
];

// --- policy ----------------------------------------------------------------------------------
const SLUR = new Set(['abo', 'abeed', 'africoon', 'arabush', 'boonga', 'chingchong', 'chink',
  'fag', 'kike', 'negro', 'nigger', 'retard', 'spastic', 'tranny', 'dyke']);
const PROFANITY = new Set(['arse', 'ass', 'bastard', 'bitch', 'bollocks', 'cock', 'cuck', 'cunt',
  'dick', 'fuck', 'piss', 'prick', 'shit', 'turd', 'twat', 'wank']);
// obscenity terms with innocent or reclaimed meanings, or plain anatomy: review, never block.
const MILD = new Set(['anal', 'anus', 'arse', 'ass', 'bastard', 'boob', 'cock', 'cuck', 'cum',
  'dick', 'dyke', 'hooker', 'negro', 'orgasm', 'orgy', 'penis', 'piss', 'prick', 'scat', 'semen',
  'sex', 'tit', 'turd', 'vagina', 'retard', 'incest']);
// Everyday words in the uncurated lists; a caption saying them needs no review.
const EVERYDAY = new Set(['balls', 'butt', 'butts', 'bum', 'cox', 'escort', 'flange', 'hoes',
  'homo', 'lust', 'lusting', 'muff', 'nob', 'pawn', 'poop', 'suck', 'sucks', 'wang', 'willy',
  'willies', 'xx', 'sexual', 'sexuality', 'sexually', 'playboy', 'breasts', 'nipple', 'nipples',
  'topless', 'twinkie', 'domination', 'eunuch', 'rectum', 'labia', 'genitals', 'snatch',
  'lolita', 'shag', 'spunk', 'screwing', 'undressing', 'dink', 'dinks', 'erotic', 'kinky',
  'voyeur', 'swinger', 'intercourse', 'lovemaking', 'tushy', 'sadist', 'masochist']);
// Added to obscenity's whitelist: words its patterns would otherwise catch.
const LOCAL_WHITELIST = ['kanal', 'retardant', 'retardation', 'scatter', 'scathing',
  'cockatoo', 'cockatiel', 'cockerel', 'cocker spaniel', 'shitake', 'shiitake'];

// --- normalization (mirrors the matcher's text units) --------------------------------------
const LEET = {'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's',
              '!': 'i', '+': 't'};
function normalizeKey(raw) {
  let s = raw.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  s = [...s].map((c) => LEET[c] ?? c).join('');
  s = s.replace(/[\s\-_.]+/g, ' ').trim();
  if (!/^[a-z0-9 ]+$/.test(s)) return null;
  const pieces = s.split(' ');
  if (pieces.length > 1 && pieces.every((p) => p.length === 1)) return null;  // "f u c k"
  return s;
}

// obscenity ParsedPattern → every expansion (optional parts both ways, wildcards to vowels).
function expand(pattern) {
  let acc = [''];
  for (const node of pattern.nodes) {
    const lit = (n) => (n.kind === 1 ? ['a', 'e', 'i', 'o', 'u', 'y'] : [String.fromCharCode(...n.chars)]);
    let options;
    if (node.kind === 2 || node.kind === 1) options = lit(node);
    else if (node.kind === 0) options = ['', ...lit(node.childNode)];
    else continue;
    acc = acc.flatMap((a) => options.map((o) => a + o));
  }
  return acc;
}

// --- build -----------------------------------------------------------------------------------
const terms = new Map();  // key|bounds → entry
function addTerm(key, name, category, severity, startBound, endBound, source) {
  const id = `${key}|${startBound}|${endBound}`;
  const have = terms.get(id);
  if (have) {
    have.sources |= source;
    if (severity > have.severity) Object.assign(have, {name, category, severity});
    return;
  }
  terms.set(id, {key, name, category, severity, startBound, endBound, sources: source});
}

const built = englishDataset.build();
const obscenityKeys = new Set();
const phraseNames = new Map();  // phrase name → category, for categorizing the plain lists
for (const t of built.blacklistedTerms) {
  const meta = englishDataset.getPayloadWithPhraseMetadata(
      {termId: t.id, startIndex: 0, endIndex: 0, matchLength: 0}).phraseMetadata;
  const forms = expand(t.pattern);
  const name = meta?.originalWord ?? forms.reduce((a, b) => (b.length < a.length ? b : a));
  const category = SLUR.has(name) ? 'kSlur' : PROFANITY.has(name) ? 'kProfanity' : 'kSexual';
  phraseNames.set(name, category);
  for (const form of forms) {
    const key = normalizeKey(form);
    if (!key) continue;
    obscenityKeys.add(key);
    // A wildcard's other readings ("feck", "fack") are ambiguous: only the named form is severe.
    const wildcard = t.pattern.nodes.some((n) => n.kind === 1 || n.childNode?.kind === 1);
    const mild = MILD.has(name) || key.replace(/ /g, '').length <= 2 ||
                 (wildcard && key !== name.replace(/ /g, ''));
    addTerm(key, name, category, mild ? 1 : 2, t.pattern.requireWordBoundaryAtStart,
            t.pattern.requireWordBoundaryAtEnd, 1);
  }
}

const plain = [];
for (const w of profaneWords.get('en')) plain.push([w, 2]);
for (const w of naughty.en) plain.push([w, 4]);
const plainKeys = new Set(plain.map(([w]) => normalizeKey(w)).filter((k) => k && !k.includes(' ')));
let dropped = 0;
for (const [word, source] of plain) {
  const key = normalizeKey(word);
  if (!key || EVERYDAY.has(key)) { dropped++; continue; }
  if (key.includes(' ') && !key.split(' ').some((p) => plainKeys.has(p) || obscenityKeys.has(p))) {
    dropped++;
    continue;
  }
  let category = 'kOffensive';
  for (const [name, cat] of phraseNames) {
    if (name.length >= 3 && key.replace(/ /g, '').includes(name.replace(/ /g, ''))) {
      category = cat;
      if (cat === 'kSlur') break;
    }
  }
  if (obscenityKeys.has(key)) {  // obscenity already knows it, with better boundaries
    for (const e of terms.values()) if (e.key === key) e.sources |= source;
    continue;
  }
  addTerm(key, key, category, 1, true, true, source);
}

const whitelist = [...new Set([...built.whitelistedTerms, ...LOCAL_WHITELIST]
    .map((w) => w.toLowerCase().replace(/[\s\-_.]+/g, ' ').trim()))]
    // The matcher splits words at apostrophes, so "who're" can never look like a term.
    .filter((w) => /^[a-z0-9 ]+$/.test(w)).sort();

// --- emit ------------------------------------------------------------------------------------
const q = (s) => JSON.stringify(s);
const sorted = [...terms.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 :
    Number(a.startBound) - Number(b.startBound) || Number(a.endBound) - Number(b.endBound)));
const lines = [];
lines.push('// GENERATED by core/safety/gen_wordlists.mjs at build time. Do not edit; do not commit.');
lines.push('// WARNING: contains offensive words (they are what the filter looks for).');
lines.push('//');
lines.push('// Sources and licences:');
for (const s of SOURCES) {
  lines.push(`//   ${s.meta.name} ${s.meta.version} (${s.meta.license}): ${s.attribution}. ${s.url}`);
}
lines.push(`// ${sorted.length} terms, ${whitelist.length} whitelisted phrases; ${dropped} entries of ` +
           'the plain lists dropped (everyday words, spelled-out forms, innocent phrases).');
lines.push('#include "core/safety/wordlists.h"');
lines.push('');
lines.push('namespace cairn::safety::internal {');
lines.push('');
lines.push('const WordListSource kWordListSources[] = {');
for (const s of SOURCES) {
  lines.push(`  {${q(s.meta.name)}, ${q(s.meta.version)}, ${q(s.meta.license)}, ${q(s.attribution)}, ` +
             `${q(s.url)}},`);
}
lines.push('};');
lines.push(`const size_t kWordListSourceCount = ${SOURCES.length};`);
lines.push('');
lines.push('const TermEntry kTerms[] = {');
for (const e of sorted) {
  const bounds = `${e.startBound ? 'kBoundStart' : '0'} | ${e.endBound ? 'kBoundEnd' : '0'}`;
  lines.push(`  {${q(e.key)}, ${q(e.name)}, Category::${e.category}, ${e.severity}, ${bounds}, ` +
             `${e.sources}},`);
}
lines.push('};');
lines.push(`const size_t kTermCount = ${sorted.length};`);
lines.push('');
lines.push('const char* const kWhitelist[] = {');
for (const w of whitelist) lines.push(`  ${q(w)},`);
lines.push('};');
lines.push(`const size_t kWhitelistCount = ${whitelist.length};`);
lines.push('');
lines.push('}  // namespace cairn::safety::internal');
writeFileSync(out, lines.join('\n') + '\n');
