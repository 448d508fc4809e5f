// Small translations the audio thread needs: device status for the reports,
// and chain guest specs (as they cross the thread boundary) into AudioChain's.
import type { ChainGuest } from '../../plugins/chain/audio-chain.js';
import type { CaptureDevice, PlaybackDevice } from './devices/device.js';
import type { CaptureSpec, ChainGuestSpec, DeviceStatus, PlaybackSpec } from './engine-protocol.js';

export function describeDevice(
  device: CaptureDevice | PlaybackDevice | null,
  spec: CaptureSpec | PlaybackSpec,
  openError: { code: string; message: string } | null,
): DeviceStatus | null {
  if (spec.kind === 'none') return null;
  if (!device) {
    return { kind: spec.kind, name: 'name' in spec && spec.name ? spec.name : spec.kind, open: false, error: openError, underruns: 0, overruns: 0 };
  }
  const st = device.stats() as { underruns?: number; overruns?: number; ended?: boolean };
  const err = device.error;
  return {
    kind: device.kind,
    name: device.name,
    open: !err,
    error: err ? { code: err.code, message: err.message } : null,
    underruns: st.underruns ?? 0,
    overruns: st.overruns ?? 0,
    ...(st.ended !== undefined ? { ended: st.ended } : {}),
  };
}

export function toChainGuests(specs: ChainGuestSpec[]): ChainGuest[] {
  // AEC first, then NS, then the effects in the order given: the canceller
  // must see the mic before a suppressor makes the echo path non-linear.
  const rank = { aec: 0, ns: 1, effect: 2 } as const;
  return specs
    .filter((s) => s.enabled)
    .map((s, i) => ({ s, i }))
    .sort((a, b) => rank[a.s.slot] - rank[b.s.slot] || a.i - b.i)
    .map(({ s }) => ({ manifest: s.manifest, wasm: s.wasm, grants: s.grants, config: s.config, slot: s.slot }));
}
