import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Database } from '../../src/persistence/database.js';
import { EventIntake } from '../../src/domain/events/event-intake.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { LabelAlerts } from '../../src/domain/audit/label-alerts.js';
import { AuditReporter } from '../../src/domain/audit/audit-reporter.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { auditOptionsAt } from '../../src/domain/operations/operation-deps.js';
import { catalogueBatch } from '../support/edge-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const T0 = Date.UTC(2026, 11, 5, 9, 0);

// The daemon stops the audit reporter, then closes the database. A periodic report still under way at the stop
// used to go on after the close and end in "database is closed" (an error line on every such shutdown, and the
// report lost); stop() now resolves only when the tick under way has ended.
describe('audit reporter stop', () => {
  const tmp = tempDir();

  it('waits for the report under way, so that it is queued before the database closes', async () => {
    const file = join(tmp.dir, 'store.db');
    const clock = new ManualClock(T0);
    const lines: { evt?: string; level?: number }[] = [];
    const log = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as { evt?: string }) } });
    const db = await Database.open(file);
    const labels = await LabelStore.load({ db, clock, log });
    const images = new ImageStore({ db });
    const intake = new EventIntake({ db, labels, clock, log, maxEventBytes: 1 << 20, onApplied: () => undefined });
    expect((await intake.ingest(catalogueBatch(), { channel: 'local' })).reply.status).toBe('applied');
    const audit = { slaSeconds: 900, unreachableAfterS: 3600, maxAttempts: 8 };
    const alerts = new LabelAlerts({ db, labels, lowBatteryMv: 2400, unreachableAfterS: 3600, onOutbox: () => undefined });
    const reporter = new AuditReporter({ db, labels, images, clock, log, store: { chain: 'testchain', id: 'store-1' }, intervalS: 60, auditOptions: () => auditOptionsAt({ clock, audit }), alerts, onOutbox: () => undefined, maxReportBytes: 256 * 1024 });
    reporter.start();
    clock.advance(60_000); // the tick runs: an alert sweep, then the report of the whole store
    await reporter.stop();
    await labels.stop();
    await db.close();
    expect(lines.filter((l) => l.evt === 'audit.report_failed')).toEqual([]);

    const reopened = await Database.open(file);
    try {
      const rows = await reopened.all<{ id: string; topic: string }>('SELECT id, topic FROM outbox WHERE topic = ?', ['out/audit']);
      expect(rows).toEqual([{ id: `testchain-store-1-audit-${T0 + 60_000}`, topic: 'out/audit' }]);
    } finally {
      await reopened.close();
    }
  });
});
