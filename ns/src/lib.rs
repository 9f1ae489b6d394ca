//! box-ns
