/** Filters of the machine list: status, zone and free text. */
import { Input, Select, Space } from 'antd';
import type { MachineView } from '../../types.ts';
import { STATUSES } from './statuses.ts';

export interface MachineFilter {
  status?: MachineView['status'] | undefined;
  zone?: string | undefined;
  q?: string | undefined;
}

/** Controls that edit a `MachineFilter`. */
export function MachineFilters({ value, onChange }: { value: MachineFilter; onChange: (f: MachineFilter) => void }) {
  return (
    <Space wrap>
      <Select
        allowClear
        placeholder="Any status"
        style={{ width: 150 }}
        value={value.status}
        onChange={(status?: MachineView['status']) => onChange({ ...value, status })}
        options={STATUSES.map((s) => ({ value: s, label: s }))}
        aria-label="Status filter"
      />
      <Input.Search allowClear placeholder="Zone" style={{ width: 140 }} onSearch={(zone) => onChange({ ...value, zone: zone.trim() || undefined })} aria-label="Zone filter" />
      <Input.Search allowClear placeholder="Hostname, IP, serial…" style={{ width: 240 }} onSearch={(q) => onChange({ ...value, q: q.trim() || undefined })} aria-label="Machine search" />
    </Space>
  );
}
