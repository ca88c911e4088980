import net from 'node:net';

/**
 * A TCP proxy in front of the real RabbitMQ, to take "the broker" away from the app under test
 * and bring it back, without touching the shared RabbitMQ server itself: `down()` cuts every
 * connection and refuses new ones, as a stopped broker would; `up()` lets them through again.
 */
export async function brokerProxy(target = { host: '127.0.0.1', port: 5672 }) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;

  async function listen() {
    server = net.createServer((client) => {
      const upstream = net.connect(target);
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  }

  await listen();
  return {
    get url() {
      return `amqp://guest:guest@127.0.0.1:${port}`;
    },
    async down() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
    },
    async up() {
      if (!server) await listen();
    },
    async close() {
      await this.down();
    },
  };
}

export async function rabbitReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: 5672 });
    socket.setTimeout(2000);
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
