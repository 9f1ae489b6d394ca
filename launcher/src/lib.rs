//! box-launcher
