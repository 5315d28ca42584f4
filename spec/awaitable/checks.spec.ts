/** Argument checks: bad input names the bad value. */
import { pair, useAwaitableApi } from './support';

useAwaitableApi();

describe('bad arguments', () => {
  it('bad arguments are TypeErrors and RangeErrors naming the value', async () => {
    const { client } = await pair();
    await expect(client.recv(0)).rejects.toThrow(new RangeError('recv(n): n must be an integer > 0, got 0'));
    await expect(client.recv('5' as never)).rejects.toThrow(TypeError);
    await expect(client.send(42 as never)).rejects.toThrow(TypeError);
    await expect(client.recv(5, { signal: 'x' } as never)).rejects.toThrow(TypeError);
  });
});
