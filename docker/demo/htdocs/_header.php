<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title><?= htmlspecialchars($title ?? 'Acme') ?></title>
<link rel="stylesheet" href="/css/site.css"></head><body><header><img src="/img/logo.svg" alt="Acme"></header><main>
