import Crypto
import FoundationEssentials
import SwiftASN1
import X509

/// A throwaway CA and a server certificate for `localhost` and `127.0.0.1`, made at start.
/// P-256 ECDSA keys; nothing is written to disk unless asked (`writeCACertificate`).
struct CertificateAuthority: Sendable {
    let caCertificatePEM: String
    let serverCertificatePEM: String
    let serverPrivateKeyPEM: String

    /// - Parameter trusted: when false the server certificate is signed by a second CA whose
    ///   certificate is never handed out, so a client trusting `caCertificatePEM` must fail.
    init(trusted: Bool) throws {
        // Valid from a week ago, like a real API's certificate issued long before: a gateway whose
        // clock lags by days still verifies it (the clock tests start agents 2 days behind).
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("emnify-emulator")
            CommonName("emnify-emulator throwaway CA")
        }
        let caCertificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(caKey.publicKey),
            notValidBefore: now - 7 * 86_400,
            notValidAfter: now + 30 * 86_400,
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(caKey.publicKey))
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )

        // The signer of the server certificate: the published CA, or a hidden one.
        let signerKey = trusted ? caKey : P256.Signing.PrivateKey()
        let signerName =
            trusted
            ? caName
            : try DistinguishedName {
                OrganizationName("emnify-emulator")
                CommonName("emnify-emulator untrusted CA")
            }
        let serverKey = P256.Signing.PrivateKey()
        let serverCertificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(serverKey.publicKey),
            notValidBefore: now - 7 * 86_400,
            notValidAfter: now + 30 * 86_400,
            issuer: signerName,
            subject: try DistinguishedName { CommonName("localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"),
                    .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                ])
            },
            issuerPrivateKey: Certificate.PrivateKey(signerKey)
        )
        caCertificatePEM = try caCertificate.serializeAsPEM().pemString + "\n"
        serverCertificatePEM = try serverCertificate.serializeAsPEM().pemString + "\n"
        serverPrivateKeyPEM = serverKey.pemRepresentation + "\n"
    }
}
