using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// A node's TLS identity on disk: a self-signed certificate (PEM) and its ECDSA P-256 private key (PKCS#8 PEM, owner-only).
/// Nothing in it is trusted for its issuer or names: peers accept it by its key's pin alone.
/// </summary>
public static class TlsFiles
{
    public const string CertificateFileName = "tls.crt";
    public const string KeyFileName = "tls.key";

    /// <summary>The key file that belongs to a certificate file: same folder and name, `.key`.</summary>
    public static string KeyFileOf(string certificateFile) => Path.ChangeExtension(certificateFile, ".key");

    /// <summary>Writes a new certificate and key; never overwrites either. Returns the pin peers list.</summary>
    public static TlsPin Generate(string certificateFile, string keyFile, string subject)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(certificateFile);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyFile);
        foreach (var target in new[] { certificateFile, keyFile })
        {
            if (File.Exists(target))
            {
                throw new NodeFileException($"{target} already exists; a TLS identity is never overwritten.");
            }
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + subject.Replace(",", " ", StringComparison.Ordinal)), key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(20));
        KeyFiles.WriteNew(keyFile, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        KeyFiles.WriteNew(certificateFile, certificate.ExportCertificatePem(),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return TlsPin.Of(certificate);
    }

    /// <summary>The certificate with its private key, ready for the TLS handshake.</summary>
    public static X509Certificate2 Load(string certificateFile, string keyFile)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
            // Exported and re-imported so the key is usable by the TLS stack on every platform, not only as an ephemeral key.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeFileException($"The TLS certificate {certificateFile} or its key {keyFile} cannot be read: {e.Message}");
        }
        catch (CryptographicException e)
        {
            throw new NodeFileException($"{certificateFile} and {keyFile} are not a PEM certificate and its private key: {e.Message}");
        }
    }

    /// <summary>The pin of a certificate file alone (an RPC member's, as an operator lists it).</summary>
    public static TlsPin PinOf(string certificateFile)
    {
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(certificateFile));
            return TlsPin.Of(certificate);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeFileException($"The TLS certificate {certificateFile} cannot be read: {e.Message}");
        }
        catch (CryptographicException e)
        {
            throw new NodeFileException($"{certificateFile} is not a PEM certificate: {e.Message}");
        }
    }
}
