"""Who is calling, whether it may, and how much: authentication, the access
policy's decisions and per-caller limits, applied by the interceptor."""
