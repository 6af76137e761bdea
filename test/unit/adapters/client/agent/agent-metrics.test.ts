import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { agentInFlightHook } from '../../../../../src/adapters/client/agent/agent-metrics.js';
import { PromMetrics } from '../../../../../src/adapters/platform/metrics/prom-metrics.adapter.js';

describe('agentInFlightHook', () => {
  it('sets piko_agent_requests_in_flight per endpoint at scrape time, summing listeners of one endpoint', async () => {
    const metrics = new PromMetrics();
    const counts = { a1: 2, a2: 1, b: 0 };
    metrics.beforeCollect(
      agentInFlightHook(metrics, [
        { endpointId: 'a', requestsInFlight: () => counts.a1 },
        { endpointId: 'a', requestsInFlight: () => counts.a2 },
        { endpointId: 'b', requestsInFlight: () => counts.b },
      ]),
    );

    const first = await metrics.text();
    assert.match(first, /^# TYPE piko_agent_requests_in_flight gauge$/m);
    assert.match(first, /^piko_agent_requests_in_flight\{endpoint="a"\} 3$/m);
    assert.match(first, /^piko_agent_requests_in_flight\{endpoint="b"\} 0$/m);

    counts.a1 = 0;
    counts.b = 4;
    const second = await metrics.text();
    assert.match(second, /^piko_agent_requests_in_flight\{endpoint="a"\} 1$/m);
    assert.match(second, /^piko_agent_requests_in_flight\{endpoint="b"\} 4$/m);
  });
});
