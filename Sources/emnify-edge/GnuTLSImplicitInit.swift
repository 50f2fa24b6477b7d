/// Debian's libcurl loads GnuTLS (through librtmp and libldap) although emnify-edge speaks TLS
/// through OpenSSL only. GnuTLS initialises itself in a load-time constructor unless the program
/// defines this function (its documented opt-out, like GNUTLS_NO_IMPLICIT_INIT=1): that costs
/// about 0.7 MB resident for nothing. Code that does use GnuTLS calls gnutls_global_init itself.
/// The symbol is exported to the dynamic table in Package.swift, so GnuTLS's call finds it.
@_cdecl("_gnutls_global_init_skip")
public func gnutlsGlobalInitSkip() -> Int32 { 1 }
