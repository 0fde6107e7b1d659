namespace Tapster.Audit;

/// <summary>How a check came out. Only <see cref="Fail"/> makes <c>tapster check</c> exit 1.</summary>
internal enum CheckStatus
{
    Pass,
    Warn,
    Fail,

    /// <summary>The check could not run here (the app did not load, no git repository, no alembic).</summary>
    Skip,
}
