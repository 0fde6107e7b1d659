namespace Tapster.Secrets;

/// <summary>
/// What <c>rotate-key</c> did: how many secrets it re-encrypted, the old and new key ids, and where the
/// new key is. <paramref name="Installed"/> is false when the key must still be installed by hand
/// (it came from TAPSTER_MASTER_KEY or a systemd credential, or --new-key-file was given).
/// </summary>
internal sealed record KeyRotation(int Count, string OldKeyId, string NewKeyId, string NewKeyPath, bool Installed, MasterKeySource OldSource);
