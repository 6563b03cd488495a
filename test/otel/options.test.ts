/**
 * instrument()'s misuse messages follow the house format, and uninstrument() is idempotent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { instrument } from '../../src/otel/index.ts';
import { telemetry } from '../../src/internal/telemetry.ts';

test('a provider without getTracer/getMeter is a TypeError naming the option', () => {
  assert.throws(() => instrument({ tracerProvider: 1 as never }), { name: 'TypeError', message: 'instrument: options.tracerProvider must be an OpenTelemetry TracerProvider (with getTracer()), got 1' });
  assert.throws(() => instrument({ meterProvider: {} as never }), { name: 'TypeError', message: 'instrument: options.meterProvider must be an OpenTelemetry MeterProvider (with getMeter()), got an object' });
  assert.throws(() => instrument('x' as never), TypeError);
  assert.equal(telemetry.active, false, 'a refused call attaches nothing');
});

test('with no options it attaches to the global providers; uninstrument() twice is harmless', () => {
  const otel = instrument();
  assert.equal(telemetry.active, true);
  otel.uninstrument();
  otel.uninstrument();
  assert.equal(telemetry.active, false);
});
