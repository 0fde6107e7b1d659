namespace Tapster.Secrets;

/// <summary>Where a master key came from; <c>rotate-key</c> decides from it where the new key goes.</summary>
internal enum MasterKeySource
{
    Environment,
    KeyFile,
    Credential,
    Generated,
}
