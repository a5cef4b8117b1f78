/**
 * Deleting a group or role that grants still use: the server refuses (409) unless `?force=true`,
 * which revokes those grants too. Ask before forcing, showing the server's reason. (Callers in a
 * Popconfirm do not return this promise, so the popconfirm closes before the question opens.)
 */
import type { App } from 'antd';
import { api, ApiError, messageOf, request } from '../api.ts';

type AppApi = ReturnType<typeof App.useApp>;

/** DELETE `path`; on a 409, confirm and retry with `?force=true`. Resolves true once deleted. */
export async function deleteWithForce(app: AppApi, path: string, what: string): Promise<boolean> {
  try {
    await api.del(path);
    return true;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 409) {
      void app.message.error(messageOf(err));
      return false;
    }
    const forced = await app.modal.confirm({
      title: `Delete ${what} and its grants?`,
      content: err.message,
      okText: 'Delete with its grants',
      okButtonProps: { danger: true },
    });
    if (!forced) return false;
    try {
      await request('DELETE', path, { query: { force: true } });
      return true;
    } catch (again) {
      void app.message.error(messageOf(again));
      return false;
    }
  }
}
