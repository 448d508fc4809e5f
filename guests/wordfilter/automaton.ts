// wordfilter's matcher: case folding that keeps positions, and a
// multi-pattern automaton over the folded words (index.ts has the policy).

/**
 * Lower-cases code unit by code unit, keeping the length (String#toLowerCase
 * may change it, e.g. "İ" becomes two units), so that positions found in the
 * folded text are positions in the original.
 */
export function fold(s: string): string {
  let out = "";
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let lower = c;
    if (c >= 0x41 && c <= 0x5a) lower = c + 32;
    else if (c >= 0x80) {
      const l = String.fromCharCode(c).toLowerCase();
      if (l.length == 1) lower = l.charCodeAt(0);
    }
    if (lower != c) {
      out += s.substring(runStart, i) + String.fromCharCode(lower);
      runStart = i + 1;
    }
  }
  return out + s.substring(runStart);
}

// ---- multi-pattern automaton (Aho-Corasick) ---------------------------------------
//
// Built once from the folded word list at configure time; a message is then
// scanned in one pass, O(length of the message + number of matches), whatever
// the number of words. (The scan this replaces ran indexOf once per word:
// 500 words over a 19,000-character message took 64-131 ms, past the filter's
// callMs, so under load every such message went through unfiltered.)
// Nodes are trie states over UTF-16 code units of the folded text: node 0 is
// the root; the root's transitions are a dense table, the others a hash map
// keyed by (node << 16 | code unit).

const rootNext = new Int32Array(65536);
/** The root's children, in creation order (the BFS starts from them). */
const rootChildren = new Array<i32>();
const edges = new Map<u32, i32>();
/** Failure link: the longest proper suffix of this node's string that is a trie node. */
const fail = new Array<i32>();
/** Length of the word that ends exactly at this node, or 0. */
const wordLen = new Array<i32>();
/** Nearest node on the failure chain (excluding this one) where a word ends, or -1. */
const dictLink = new Array<i32>();

function next(node: i32, c: i32): i32 {
  if (node == 0) return rootNext[c];
  const key = (<u32>node << 16) | <u32>c;
  return edges.has(key) ? edges.get(key) : -1;
}

function addNode(): i32 {
  fail.push(0);
  wordLen.push(0);
  dictLink.push(-1);
  return fail.length - 1;
}

/** Builds the automaton from `words` (already folded). */
export function buildAutomaton(words: Array<string>): void {
  addNode(); // the root
  for (let w = 0; w < words.length; w++) {
    const word = words[w];
    let node = 0;
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      let to = next(node, c);
      if (to <= 0) {
        to = addNode();
        if (node == 0) {
          rootNext[c] = to;
          rootChildren.push(to);
        } else edges.set((<u32>node << 16) | <u32>c, to);
      }
      node = to;
    }
    wordLen[node] = word.length;
  }
  // Breadth-first: a node's failure link is found from its parent's.
  const queue = new Array<i32>();
  for (let i = 0; i < rootChildren.length; i++) queue.push(rootChildren[i]);
  // Children of every non-root node, for the traversal (the map has no per-node index).
  const children = new Map<i32, Array<i32>>();
  const keys = edges.keys();
  for (let i = 0; i < keys.length; i++) {
    const parent = <i32>(keys[i] >> 16);
    if (!children.has(parent)) children.set(parent, new Array<i32>());
    children.get(parent).push(<i32>keys[i]);
  }
  let head = 0;
  while (head < queue.length) {
    const node = queue[head++];
    const f = fail[node];
    dictLink[node] = wordLen[f] > 0 ? f : dictLink[f];
    if (!children.has(node)) continue;
    const list = children.get(node);
    for (let i = 0; i < list.length; i++) {
      const c = list[i] & 0xffff;
      const child = edges.get((<u32>node << 16) | <u32>c);
      let g = f;
      let to = next(g, c);
      while (to < 0) {
        g = fail[g];
        to = next(g, c);
      }
      fail[child] = to == child ? 0 : to;
      queue.push(child);
    }
  }
}

/** Letters and digits: what a whole-word match must not touch on either side. */
function isWordChar(c: i32): bool {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f) return true;
  if (c < 0x80) return false;
  // Outside ASCII: anything with a case is a letter; so are the big scripts without one.
  const s = String.fromCharCode(c);
  return s.toLowerCase() != s.toUpperCase() || (c >= 0x3040 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af);
}

function wholeAt(lower: string, start: i32, end: i32, wholeWords: bool): bool {
  if (!wholeWords) return true;
  return (start == 0 || !isWordChar(lower.charCodeAt(start - 1))) && (end >= lower.length || !isWordChar(lower.charCodeAt(end)));
}

/**
 * The text with every occurrence of a configured word replaced by asterisks
 * (unchanged when none occurs). `firstOnly`: stop at the first occurrence and
 * return "*" (block mode needs no masked text).
 */
export function mask(text: string, words: Array<string>, wholeWords: bool, firstOnly: bool): string {
  if (words.length == 0) return text;
  const lower = fold(text);
  const n = lower.length;
  // cover[e]: the longest valid match ending just before e.
  let cover: Int32Array | null = null;
  let node = 0;
  for (let i = 0; i < n; i++) {
    const c = lower.charCodeAt(i);
    let to = next(node, c);
    while (to < 0) {
      node = fail[node];
      to = next(node, c);
    }
    node = to;
    let out = wordLen[node] > 0 ? node : dictLink[node];
    while (out > 0) {
      const len = wordLen[out];
      if (wholeAt(lower, i + 1 - len, i + 1, wholeWords)) {
        if (firstOnly) return "*";
        if (cover === null) cover = new Int32Array(n + 1);
        if (len > cover[i + 1]) cover[i + 1] = len;
      }
      out = dictLink[out];
    }
  }
  if (cover === null) return text;
  // Sweep from the end: a match ending at e covers [e - len, e).
  const starred = new Uint8Array(n);
  let run = 0;
  for (let e = n; e > 0; e--) {
    if (cover[e] > run) run = cover[e];
    if (run > 0) {
      starred[e - 1] = 1;
      run--;
    }
  }
  const parts = new Array<string>();
  let i = 0;
  while (i < n) {
    let j = i;
    const s = starred[i];
    while (j < n && starred[j] == s) j++;
    parts.push(s ? "*".repeat(j - i) : text.substring(i, j));
    i = j;
  }
  return parts.join("");
}

