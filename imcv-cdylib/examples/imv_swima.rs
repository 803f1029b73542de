//! `libimv_swima.so`: the imv_swima as an IF-IMV C plugin (see the crate README).

if_imv::export_imv!(imcv_cdylib::swima_imv());
