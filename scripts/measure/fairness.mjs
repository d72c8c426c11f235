// Bystander PING latency while another client pipelines 40 maximal MAP_DMAs (13 GiB, 4K IOMMU pages).
import { Client, bystander, pct, startServer } from './common.mjs';

const GiB = 1n << 30n;
const UA = 1n << 40n;
const s = await startServer(['--max-memory', 'unlimited', '--memlock-limit', '16G']);
try {
  const heavy = await Client.connect(s.socket);
  const container = (await heavy.call('VFIO_OPEN_CONTAINER', {})).fd;
  const group = (await heavy.call('VFIO_GROUP_OPEN', { group: 1 })).fd;
  await heavy.call('VFIO_GROUP_SET_CONTAINER', { fd: group, container });
  await heavy.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
  await heavy.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size: 13n * GiB });
  const win = await heavy.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 12, window_size: 16n * GiB, levels: 2 });
  const by = await Client.connect(s.socket);
  for (let i = 0; i < 50; i++) await by.ping(); // warm
  // The same bystander with the server idle: what the (shared) machine alone costs.
  const idle = bystander(by, 2);
  await new Promise((r) => setTimeout(r, 4000));
  const idleLat = await idle.stop();
  const b = bystander(by, 2);
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 40 }, () =>
    heavy.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova: win.start_addr, size: 13n * GiB })));
  const mapsMs = Date.now() - t0;
  const lat = await b.stop();
  console.log(JSON.stringify({ figure: 'fairness', maps: 40, mapSize: '13 GiB @4K (3,407,872 TCEs)', mapsMs, pings: lat.length,
    p50: +pct(lat, 50).toFixed(2), p99: +pct(lat, 99).toFixed(2), max: +Math.max(...lat).toFixed(2),
    idle: { pings: idleLat.length, p50: +pct(idleLat, 50).toFixed(2), p99: +pct(idleLat, 99).toFixed(2), max: +Math.max(...idleLat).toFixed(2) } }));
  await heavy.end();
  await by.end();
} finally {
  s.stop();
}
