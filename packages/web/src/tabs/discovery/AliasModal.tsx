/**
 * Create or switch an alias (`PUT /aliases/{path} {target}`): one path that answers with another
 * service's instances. Switching is atomic on the server and pushed to every watcher at once.
 */
import { AutoComplete, Form, Input, Typography } from 'antd';
import { api, seg } from '../../api.ts';
import { FormModal } from '../../components/FormModal.tsx';
import type { AliasView } from './model.ts';

interface AliasValues {
  path: string;
  target: string;
}

export interface AliasModalProps {
  open: boolean;
  /** The alias being switched; undefined to name a new one (or any existing one). */
  alias: AliasView | undefined;
  /** Where the alias should point by default: the service on screen. */
  here: string;
  /** Every alias the user can see, offered while typing the path. */
  known: AliasView[];
  onClose: () => void;
  onSaved: (a: AliasView) => void;
}

/** The alias dialog. */
export function AliasModal({ open, alias, here, known, onClose, onSaved }: AliasModalProps) {
  async function save(v: AliasValues): Promise<void> {
    onSaved(await api.put<AliasView>(`/aliases/${seg(v.path.trim())}`, { target: v.target.trim() }));
  }
  const options = known.map((a) => ({ value: a.path, label: `${a.path}  →  ${a.target}` }));

  return (
    <FormModal<AliasValues>
      title={alias ? `Switch alias ${alias.path}` : 'Point an alias at a service'}
      open={open}
      onClose={onClose}
      onSubmit={save}
      fields={['path', 'target']}
      initialValues={{ path: alias?.path ?? '', target: alias ? alias.target : here }}
      okText={alias ? 'Switch' : 'Save alias'}
    >
      <Typography.Paragraph type="secondary">
        Clients asking for the alias get the target's instances, and DNS answers it with a CNAME. Naming an existing alias switches it.
      </Typography.Paragraph>
      <Form.Item name="path" label="Alias path" rules={[{ required: true, message: 'a dotted path, e.g. shop.live' }]}>
        {alias ? <Input disabled /> : <AutoComplete options={options} placeholder="shop.live" filterOption={(input, o) => String(o?.value ?? '').includes(input)} />}
      </Form.Item>
      <Form.Item name="target" label="Target service" rules={[{ required: true, message: 'the service (or alias) it should answer with' }]}>
        <Input placeholder={here} />
      </Form.Item>
    </FormModal>
  );
}
