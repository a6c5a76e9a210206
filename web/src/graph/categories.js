// categories.js maps attribution tags to the few display groups the graph
// colours by (sanctioned, abuse, mixer, darknet, gambling, exchange, DeFi,
// other service, tagged without a known group, untagged) and holds their
// colours and icons. Icons are small SVG drawings made here, used as
// data: URLs (the Content-Security-Policy allows img-src data:).

// GROUPS in order of precedence: a node tagged both "exchange" and
// "ransomware" is shown as abuse; a sanctioned tag beats everything.
export const GROUPS = ['sanctioned', 'abuse', 'mixer', 'darknet', 'gambling', 'exchange', 'defi', 'service', 'tagged', 'untagged'];

// COLOURS of the groups (fill of the node, swatch of the legend).
export const COLOURS = {
  sanctioned: '#c62828',
  abuse: '#ad1457',
  mixer: '#6a1b9a',
  darknet: '#4e342e',
  gambling: '#e65100',
  exchange: '#1565c0',
  defi: '#00838f',
  service: '#2e7d32',
  tagged: '#616161',
  untagged: '#90a4ae',
  tx: '#eceff1',
  entity: '#455a64',
};

// GraphSense concepts (see internal/tags/taxonomy.go) → group. Concepts
// not listed fall to "tagged".
const CONCEPT_GROUP = {
  sanction: 'sanctioned',
  sanctioned: 'sanctioned',
  gov_black_list: 'sanctioned',
  mixing_service: 'mixer',
  mixing: 'mixer',
  coinjoin: 'mixer',
  market: 'darknet',
  dark_web: 'darknet',
  drugs: 'darknet',
  weapons: 'darknet',
  counterfeit: 'darknet',
  gambling: 'gambling',
  exchange: 'exchange',
  hot_wallet: 'exchange',
  cold_wallet: 'exchange',
  warm_wallet: 'exchange',
  defi: 'defi',
  defi_token: 'defi',
  defi_lending: 'defi',
  defi_dex: 'defi',
  defi_dex_pair: 'defi',
  defi_derivative: 'defi',
  defi_bridge: 'defi',
  defi_dao: 'defi',
  defi_staking: 'defi',
  defi_custody: 'defi',
  wallet_service: 'service',
  escrow_wallet: 'service',
  ico_wallet: 'service',
  payment_processor: 'service',
  mining_service: 'service',
  miner: 'service',
  shop: 'service',
  atm: 'service',
  hosting: 'service',
  vpn: 'service',
  faucet: 'service',
  service: 'service',
  filesharing: 'service',
  messaging_service: 'service',
  search_engine: 'service',
  nameservice: 'service',
  index: 'service',
  donation: 'service',
  organization: 'service',
};

const ABUSES = new Set([
  'abuse', 'sexual_abuse', 'child_sexual_abuse', 'violence', 'human_trafficking', 'murder', 'torture', 'scam',
  'financial_crime', 'investment_fraud', 'ponzi_scheme', 'pyramid_scheme', 'money_laundering', 'extortion',
  'sextortion', 'phishing', 'hacking', 'service_hack', 'account_hack', 'exploit', 'data_breach',
  'social_engineering', 'malware', 'payment_card_fraud', 'ransomware', 'extremism', 'terrorism',
  'terrorism_financing', 'black_list', 'perpetrator',
]);

// groupOf returns the display group of one concept ("" → untagged).
export function groupOf(concept) {
  if (!concept) return 'untagged';
  const c = String(concept).toLowerCase();
  if (CONCEPT_GROUP[c]) return CONCEPT_GROUP[c];
  if (ABUSES.has(c)) return 'abuse';
  return 'tagged';
}

// precedence ranks a group (lower is shown first).
export function precedence(group) {
  const i = GROUPS.indexOf(group);
  return i < 0 ? GROUPS.length : i;
}

// summariseTags reduces the tags of an address (GET /tags/{address}:
// direct and cluster tags) to {labels, category, group, sanctioned}:
// labels are distinct, direct tags first; category is the concept that
// decides the group (the most serious one).
export function summariseTags(tags) {
  const list = Array.isArray(tags) ? tags : [];
  const sorted = [...list].sort((a, b) => (a.origin === 'direct' ? 0 : 1) - (b.origin === 'direct' ? 0 : 1));
  const labels = [];
  let best = '';
  let bestGroup = 'untagged';
  let sanctioned = false;
  for (const t of sorted) {
    if (!t || typeof t !== 'object') continue;
    if (typeof t.label === 'string' && t.label && !labels.includes(t.label)) labels.push(t.label);
    if (t.sanctioned) sanctioned = true;
    for (const c of [t.abuse, t.category]) {
      if (typeof c !== 'string' || !c) continue;
      const g = groupOf(c);
      if (precedence(g) < precedence(bestGroup)) {
        bestGroup = g;
        best = c;
      }
    }
    if (bestGroup === 'untagged' && t.label) bestGroup = 'tagged';
  }
  if (sanctioned) {
    bestGroup = 'sanctioned';
    best = 'sanctioned';
  }
  return { labels: labels.slice(0, 20), category: best, group: bestGroup, sanctioned };
}

// --- icons ---------------------------------------------------------------

const GLYPHS = {
  untagged: '<rect x="4" y="7" width="16" height="11" rx="2"/><path d="M14.5 12.5h3"/><path d="M6 7l9-3 1 3"/>',
  tagged: '<path d="M4 4h8l8 8-8 8-8-8z"/><circle cx="8.5" cy="8.5" r="1.3"/>',
  sanctioned: '<circle cx="12" cy="12" r="7.5"/><path d="M6.8 17.2L17.2 6.8"/>',
  abuse: '<path d="M12 3.5l9 16H3z"/><path d="M12 10v4.5"/><path d="M12 17.2v.3"/>',
  mixer: '<path d="M3 7h4l9 10h5"/><path d="M3 17h4l9-10h5"/><path d="M18 4l3 3-3 3"/><path d="M18 14l3 3-3 3"/>',
  darknet: '<path d="M3 12s3.5-6 9-6 9 6 9 6-3.5 6-9 6-9-6-9-6z"/><circle cx="12" cy="12" r="2.6"/>',
  gambling: '<rect x="4.5" y="4.5" width="15" height="15" rx="3"/><circle cx="9" cy="9" r=".9"/><circle cx="15" cy="15" r=".9"/><circle cx="12" cy="12" r=".9"/>',
  exchange: '<path d="M4 9h15l-4-4"/><path d="M20 15H5l4 4"/>',
  defi: '<path d="M12 3l8 4.5v9L12 21l-8-4.5v-9z"/><path d="M12 3v18"/>',
  service: '<path d="M3 10l3-5h12l3 5z"/><path d="M5 10v9h14v-9"/><path d="M10 19v-5h4v5"/>',
  tx: '<path d="M4 9h13"/><path d="M13 5l4 4-4 4"/><path d="M20 15H7"/><path d="M11 11l-4 4 4 4"/>',
  entity: '<circle cx="8" cy="9" r="3"/><circle cx="16" cy="9" r="3"/><path d="M3 19c0-3 2.5-5 5-5s5 2 5 5"/><path d="M11 19c0-3 2.5-5 5-5s5 2 5 5"/>',
};

const iconCache = new Map();

// iconURL returns a data: URL of the icon of a group or node kind ("tx",
// "entity"), drawn in colour stroke (white on coloured nodes).
export function iconURL(name, stroke = '#ffffff') {
  const key = name + stroke;
  if (iconCache.has(key)) return iconCache.get(key);
  const glyph = GLYPHS[name] || GLYPHS.tagged;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" fill="none" stroke="${stroke}" ` +
    `stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${glyph}</svg>`;
  const url = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
  iconCache.set(key, url);
  return url;
}
