// Another team's Worker, as the RPC tests run it: it holds service bindings to Postern's
// PosternService entrypoint (each naming an account in its props) and calls them as an app would.
// POST {"binding": "POSTERN", "method": "send", "args": [...]} -> the RPC result as JSON.
export default {
  async fetch(request, env) {
    const { binding, method, args } = await request.json();
    const result = await env[binding][method](...args);
    return Response.json(result);
  },
};
