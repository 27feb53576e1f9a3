<?php header('Location: /products/', true, 301);
