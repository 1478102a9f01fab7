/**
 * Schema migrations, applied in order at start-up inside one transaction (database.ts). Never edit a released
 * migration: append a new one. Times are epoch milliseconds (UTC); money is integer cents.
 */
export const MIGRATIONS: readonly string[] = [
  `
  -- Every event the edge accepted or refused, by the sender's id: the de-duplication record (exactly-once effect).
  CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    type        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('applied', 'stale', 'rejected')),
    reason      TEXT
  );
  -- Input that could not be applied, with the reason and (a bounded prefix of) the raw bytes.
  CREATE TABLE dead_letters (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    channel     TEXT NOT NULL,
    topic       TEXT,
    source      TEXT,
    event_id    TEXT,
    code        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    payload     BLOB
  );
  -- Newest version seen per entity (e.g. 'price:4006040000013'): older versions are stale.
  CREATE TABLE entity_versions (
    entity  TEXT PRIMARY KEY,
    version INTEGER NOT NULL
  );
  CREATE TABLE products (
    gtin             TEXT PRIMARY KEY,
    sku              TEXT,
    name             TEXT NOT NULL,
    brand            TEXT,
    pack_quantity    REAL,
    pack_unit        TEXT,
    pack_display     TEXT,
    multipack        INTEGER,
    drained_quantity REAL,
    loose            INTEGER NOT NULL DEFAULT 0,
    category         TEXT,
    active           INTEGER NOT NULL DEFAULT 1,
    updated_at       INTEGER NOT NULL
  );
  -- Regular prices; a row applies from valid_from until the next row of the same product.
  CREATE TABLE prices (
    gtin       TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    cents      INTEGER NOT NULL,
    currency   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (gtin, valid_from)
  );
  -- The price the till charged, each time it changed: feeds the PAngV §11 lowest-price line.
  CREATE TABLE price_history (
    gtin           TEXT NOT NULL,
    effective_from INTEGER NOT NULL,
    cents          INTEGER NOT NULL,
    PRIMARY KEY (gtin, effective_from)
  );
  CREATE TABLE stock (
    gtin              TEXT PRIMARY KEY,
    quantity          INTEGER NOT NULL,
    state             TEXT NOT NULL,
    restock_threshold INTEGER,
    updated_at        INTEGER NOT NULL
  );
  CREATE TABLE promotions (
    id          TEXT PRIMARY KEY,
    name        TEXT,
    badge       TEXT,
    start_at    INTEGER NOT NULL,
    end_at      INTEGER NOT NULL,
    promo_cents INTEGER,
    percent_off REAL,
    updated_at  INTEGER NOT NULL
  );
  CREATE TABLE promotion_items (
    promotion_id TEXT NOT NULL REFERENCES promotions(id) ON DELETE CASCADE,
    gtin         TEXT NOT NULL,
    PRIMARY KEY (promotion_id, gtin)
  );
  CREATE INDEX promotion_items_gtin ON promotion_items(gtin);

  CREATE TABLE aps (
    ap_id            TEXT PRIMARY KEY,
    online           INTEGER NOT NULL DEFAULT 0,
    fw_version       TEXT,
    protocol_version INTEGER,
    capabilities     INTEGER NOT NULL DEFAULT 0,
    channel          INTEGER,
    queue_capacity   INTEGER NOT NULL DEFAULT 0,
    queue_depth      INTEGER NOT NULL DEFAULT 0,
    max_block_size   INTEGER NOT NULL DEFAULT 4096,
    last_seen_at     INTEGER
  );

  -- One row per label: what it should show (desired), what it confirmed (check-in hash), the transfer under way.
  CREATE TABLE labels (
    label_id        TEXT PRIMARY KEY,
    label_type      INTEGER,
    gtin            TEXT,
    template        TEXT,
    ap_id           TEXT,
    -- a change counter: intake increments it, the planner clears it only if unchanged since it read it
    dirty           INTEGER NOT NULL DEFAULT 0,
    desired_hash    TEXT,
    desired_since   INTEGER,
    priority        INTEGER NOT NULL DEFAULT 2,
    confirmed_hash  TEXT,
    confirmed_at    INTEGER,
    consistent_since INTEGER,
    last_seen_at    INTEGER,
    battery_mv      INTEGER,
    rssi            INTEGER,
    lqi             INTEGER,
    temperature_c   INTEGER,
    wake_reason     INTEGER,
    page            INTEGER,
    transfer_id     INTEGER,
    transfer_ap     TEXT,
    transfer_hash   TEXT,
    transfer_state  TEXT,
    transfer_at     INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    force_full      INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX labels_gtin ON labels(gtin);
  CREATE INDEX labels_dirty ON labels(dirty) WHERE dirty > 0;
  CREATE INDEX labels_ap ON labels(ap_id);
  -- Every image the edge rendered, by content hash: planes (zlib) for previews and delta bases, and the content
  -- it was rendered from, so the audit can say what a label shows from the hash it acknowledged.
  CREATE TABLE images (
    hash       TEXT PRIMARY KEY,
    label_type INTEGER NOT NULL,
    planes     BLOB NOT NULL,
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE label_telemetry (
    label_id      TEXT NOT NULL,
    at            INTEGER NOT NULL,
    ap_id         TEXT,
    battery_mv    INTEGER,
    rssi          INTEGER,
    lqi           INTEGER,
    temperature_c INTEGER
  );
  CREATE INDEX label_telemetry_label ON label_telemetry(label_id, at);
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  -- Messages the edge must deliver (alerts, reports), durable until each destination acknowledged them (QoS 1).
  CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    topic      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_local INTEGER,
    sent_hq    INTEGER
  );
  -- A restock alert is raised once when stock falls to the threshold, and again only after a restock.
  ALTER TABLE stock ADD COLUMN alert_active INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Label alerts raised and not yet cleared (bit 0: low battery, bit 1: not heard), so each is raised once.
  ALTER TABLE labels ADD COLUMN alert_flags INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Timed display (protocol §6.5): the content a label must show from next_at (a price or promotion boundary),
  -- rendered ahead of time; transfer_display_at marks a transfer that the label holds until then; drop_timed asks
  -- the dispatcher to withdraw a timed image that is no longer wanted.
  ALTER TABLE labels ADD COLUMN next_hash TEXT;
  ALTER TABLE labels ADD COLUMN next_at INTEGER;
  ALTER TABLE labels ADD COLUMN transfer_display_at INTEGER;
  ALTER TABLE labels ADD COLUMN drop_timed INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- A dispatch pass, per AP: count the transfers in flight, find labels to send, timed pictures to withdraw and to
  -- stage; then the next retry time. Without these indexes each was a scan of the AP's labels or of the whole
  -- table, ~0.2 CPU s per pass at 50,000 labels (bench/dispatch-load). The partial indexes hold only the labels
  -- with work, so a consistent store costs next to nothing; the queries repeat their WHERE terms exactly.
  CREATE INDEX labels_transfer_ap ON labels(transfer_ap, transfer_state);
  CREATE INDEX labels_next_attempt ON labels(next_attempt_at);
  CREATE INDEX labels_to_send ON labels(ap_id, priority, desired_since) WHERE desired_hash IS NOT NULL AND confirmed_hash IS NOT desired_hash;
  CREATE INDEX labels_to_drop ON labels(ap_id) WHERE drop_timed = 1;
  CREATE INDEX labels_to_stage ON labels(ap_id, next_at) WHERE next_hash IS NOT NULL;
  `,
  `
  -- Protocol §5.3 decoders: the LabelDecoder bits a label announced in its last check-in (NULL: a label of before
  -- §6.6, which decodes RLE and ZLIB); the dispatcher sends CTX only to labels that announced it.
  ALTER TABLE labels ADD COLUMN decoders INTEGER;
  `,
  `
  -- The operators' audit trail: every dashboard action (flash, send again, bind, unbind, pick, log-in), who did it
  -- and what came of it, including refused attempts (docs/decisions.md D33).
  CREATE TABLE operator_actions (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    role    TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT,
    detail  TEXT,
    outcome TEXT NOT NULL
  );
  CREATE INDEX operator_actions_target ON operator_actions(target, seq);
  -- The dashboard lists recent events newest first.
  CREATE INDEX events_received ON events(received_at);
  `,
  `
  -- The label store (D17) reads the labels table once at start and selects in memory; only intake's dirty mark by
  -- product (labels_gtin) still searches it. The other indexes only slowed the store's write-behind batches.
  DROP INDEX labels_dirty;
  DROP INDEX labels_ap;
  DROP INDEX labels_transfer_ap;
  DROP INDEX labels_next_attempt;
  DROP INDEX labels_to_send;
  DROP INDEX labels_to_drop;
  DROP INDEX labels_to_stage;
  `,
  `
  -- The planner asks for the next future price or promotion boundary after every pass (label-planner.ts). Without
  -- these it scanned every price row while holding the one database queue: ~20 ms at 130,000 prices, twice per
  -- pass, so each intake tick behind it waited as long (docs/decisions.md D43). Only prices announced ahead
  -- (valid from after they arrived) can be a future boundary, so only they are indexed: an immediate price, the
  -- common case, costs intake no extra index write.
  CREATE INDEX prices_ahead ON prices(valid_from) WHERE valid_from > updated_at;
  CREATE INDEX promotions_start ON promotions(start_at);
  CREATE INDEX promotions_end ON promotions(end_at);
  `,
  `
  -- Label rules (issue 14, docs/decisions.md D49–D52). rule_sets and lots: written by src/domain/rules/rule-store.ts
  -- (from the event applier's tick); rule_effects, rule_history, pricing_pending: src/domain/rules/rule-engine.ts;
  -- price_feed: src/domain/feeds/price-feed.ts; shelf_feed: src/domain/feeds/shelf-feed.ts. One writer each.
  CREATE TABLE rule_sets (
    scope      TEXT PRIMARY KEY,
    time_zone  TEXT NOT NULL,
    rules      TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE lots (
    gtin        TEXT NOT NULL,
    lot_id      TEXT NOT NULL,
    best_before TEXT NOT NULL,
    quantity    INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (gtin, lot_id)
  );
  -- What a rule does to a product now or from a coming minute: a price (low-stock, short-dated), a picture
  -- (out-of-stock), or a refusal by a price guard (status 'refused': raised once, not applied).
  CREATE TABLE rule_effects (
    gtin       TEXT NOT NULL,
    rule_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'refused')),
    cents      INTEGER,
    start_at   INTEGER NOT NULL,
    end_at     INTEGER,
    reason     TEXT,
    badge      TEXT,
    detail     TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (gtin, rule_id)
  );
  CREATE INDEX rule_effects_start ON rule_effects(start_at);
  CREATE INDEX rule_effects_end ON rule_effects(end_at);
  -- Every rule decision, for the label history and the audit ("1,49 € by rule low-stock-evening since 19:30").
  CREATE TABLE rule_history (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    gtin     TEXT NOT NULL,
    rule_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    action   TEXT NOT NULL,
    cents    INTEGER,
    start_at INTEGER,
    end_at   INTEGER,
    detail   TEXT
  );
  CREATE INDEX rule_history_gtin ON rule_history(gtin, seq);
  -- Products whose rules and effective price must be looked at again, marked in the transaction of the change.
  CREATE TABLE pricing_pending (
    gtin TEXT PRIMARY KEY
  );
  -- The effective price for the till and the web shop, as announced (effective_from may lie ahead: the till
  -- switches then, with the labels' timed display). seq is the consumers' cursor.
  CREATE TABLE price_feed (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    gtin           TEXT NOT NULL,
    cents          INTEGER NOT NULL,
    regular_cents  INTEGER NOT NULL,
    effective_from INTEGER NOT NULL,
    promotion_id   TEXT,
    rule_id        TEXT,
    reason         TEXT,
    created_at     INTEGER NOT NULL
  );
  CREATE INDEX price_feed_gtin ON price_feed(gtin, effective_from, seq);
  -- What the shelf confirmed per product (omnichannel shelf feed); seq is the cursor.
  CREATE TABLE shelf_feed (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    gtin           TEXT NOT NULL,
    price_cents    INTEGER NOT NULL,
    regular_cents  INTEGER,
    since          INTEGER NOT NULL,
    promotion      TEXT,
    stock_state    TEXT,
    quantity       INTEGER,
    created_at     INTEGER NOT NULL
  );
  CREATE INDEX shelf_feed_gtin ON shelf_feed(gtin, seq);
  -- The §11 history names the rule that produced a price (written by the planner with the price).
  ALTER TABLE price_history ADD COLUMN rule_id TEXT;
  `,
  `
  -- D128 A transfer under way is not persisted (it is forgotten at a restart, D18): nothing reads labels by transfer.
  DROP INDEX IF EXISTS labels_transfer_ap;
  `,
];
