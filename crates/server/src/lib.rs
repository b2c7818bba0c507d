//! tiembed-server (placeholder)
