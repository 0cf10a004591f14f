// lsnitch web UI: the login page (the form works without it; this only focuses the field).
"use strict";
document.addEventListener("DOMContentLoaded", () => document.getElementById("secret").focus());
