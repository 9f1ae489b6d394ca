//! box-security
