//! tiembed-vector (placeholder)
