using System.Security.Cryptography.X509Certificates;
using IdOS.Akka.Engine.Hosting;

namespace IdOS.Akka.Engine.Tests.Network;

/// <summary>A fresh self-signed TLS certificate and key in a temporary folder, both gone on dispose.</summary>
internal sealed class TempCertificate : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-certificate-");

    public TempCertificate(string name = "stranger")
    {
        var path = Path.Combine(_dir.FullName, TlsFiles.CertificateFileName);
        TlsFiles.Generate(path, TlsFiles.KeyFileOf(path), name);
        Certificate = TlsFiles.Load(path, TlsFiles.KeyFileOf(path));
    }

    public X509Certificate2 Certificate { get; }

    public void Dispose()
    {
        Certificate.Dispose();
        _dir.Delete(recursive: true);
    }
}
