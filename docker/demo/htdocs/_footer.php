</main><footer>&copy; <?= date('Y') ?> Acme Widgets</footer></body></html>
